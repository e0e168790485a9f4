//! The programs under test, built once per test process: the C library and the C programs
//! (`c-examples/`, plain or sanitized) with the repository's Makefile, and the Rust examples
//! of this crate and of `wsmachine-tokio`; where they and the repository are.

use super::process::{describe, run_with_timeout};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `$CARGO_TARGET_DIR` if set, else `target/` of the repository.
pub fn target_root() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest_dir().join(dir),
        None => manifest_dir().join("target"),
    }
}

fn run_checked(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the C library (static and shared, release, feature `ffi`) once per test process,
/// as a C user does: `make -C c-examples lib`.
pub fn build_library() -> PathBuf {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = target_root().join("release");
        run_checked(
            Command::new("make")
                .current_dir(manifest_dir().join("c-examples"))
                .arg("lib")
                .arg(format!("LIBDIR={}", dir.display()))
                .env("CARGO_TARGET_DIR", target_root()),
            "make -C c-examples lib",
        );
        for lib in ["libwsmachine.a", "libwsmachine.so"] {
            assert!(dir.join(lib).exists(), "no {lib} in {dir:?}");
        }
        dir
    })
    .clone()
}

/// The directory of the C programs built against the library: plain, or with
/// `-fsanitize=address,undefined`. Built once per test process with the repository's
/// Makefile (the same flags as a plain `make`).
pub fn c_programs(sanitize: bool) -> PathBuf {
    static BUILT: Mutex<[Option<PathBuf>; 2]> = Mutex::new([None, None]);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = &built[usize::from(sanitize)] {
        return dir.clone();
    }
    let lib = build_library();
    let build = target_root()
        .join("c-examples")
        .join(if sanitize { "build-san" } else { "build" });
    let mut make = Command::new("make");
    make.current_dir(manifest_dir().join("c-examples"))
        .arg("CARGO_BUILD=:")
        .arg(format!("LIBDIR={}", lib.display()))
        .arg(format!("BUILD={}", build.display()));
    if sanitize {
        make.arg("SANITIZE=1");
    }
    run_checked(&mut make, "make in c-examples");
    built[usize::from(sanitize)] = Some(build.clone());
    build
}

/// Builds the Rust examples (debug: their dev-dependencies are already built for the tests).
pub fn rust_example(name: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = target_root().join("debug/examples").join(name);
    assert!(
        manifest_dir()
            .join("examples")
            .join(format!("{name}.rs"))
            .exists(),
        "examples/{name}.rs is missing"
    );
    run_checked(
        Command::new(env!("CARGO"))
            .args(["build", "--example", name])
            .current_dir(manifest_dir()),
        "cargo build --example",
    );
    path
}

/// The release build of an example of `package` (this crate or `wsmachine-tokio`), for the
/// tests whose traffic is too heavy for a debug build; built once per name and test process.
pub fn rust_example_release(package: &str, name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let path = target_root().join("release/examples").join(name);
    if !built.iter().any(|n| n == name) {
        let out = run_with_timeout(
            Command::new(env!("CARGO"))
                .args(["build", "--release", "-p", package, "--example", name])
                .current_dir(manifest_dir()),
            Duration::from_secs(1800),
        );
        assert!(
            out.status.success(),
            "cargo build --release --example {name}: {}",
            describe(&out)
        );
        built.push(name.to_string());
    }
    path
}

/// Builds an example of the `wsmachine-tokio` crate (debug) and returns its path.
pub fn tokio_example(name: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    run_checked(
        Command::new(env!("CARGO"))
            .args(["build", "-p", "wsmachine-tokio", "--example", name])
            .current_dir(manifest_dir()),
        "cargo build -p wsmachine-tokio --example",
    );
    target_root().join("debug/examples").join(name)
}
