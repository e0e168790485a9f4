//! The C quick start of the README, command for command: install the library, header and
//! pkg-config file with `make install`, then compile and link a C program against it with
//! `pkg-config`, dynamically and statically, and run both.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod process;
    pub mod programs;
    pub mod skip;
}

use std::process::Command;
use std::time::Duration;
use support::process::{describe, have, run_with_timeout};
use support::programs::{build_library, manifest_dir, target_root};
use support::skip::skip;

/// Runs a shell command as a user would: without the `LD_LIBRARY_PATH` cargo sets for tests,
/// which would point the loader at the build directory instead of the installed library.
fn sh(script: &str) -> std::process::Output {
    run_with_timeout(
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(manifest_dir())
            .env_remove("LD_LIBRARY_PATH"),
        Duration::from_secs(120),
    )
}

#[test]
fn quick_start_builds_and_links_with_pkg_config() {
    if !have("pkg-config") {
        return skip("pkg-config is missing");
    }
    let lib = build_library();
    let prefix = target_root().join("c-examples/prefix");
    let out_dir = target_root().join("c-examples/quickstart");
    std::fs::create_dir_all(&out_dir).unwrap();
    let install = sh(&format!(
        "make -C c-examples install CARGO_BUILD=: LIBDIR={} PREFIX={}",
        lib.display(),
        prefix.display()
    ));
    assert!(install.status.success(), "{}", describe(&install));
    // The shared library under its SONAME (0.MINOR before 1.0), with the development link.
    let soname = format!("libwsmachine.so.0.{}", env!("CARGO_PKG_VERSION_MINOR"));
    for file in [
        "lib/libwsmachine.a",
        "lib/libwsmachine.so",
        &format!("lib/{soname}"),
        "include/wsmachine.h",
    ] {
        assert!(prefix.join(file).exists(), "{file} not installed");
    }
    let link = std::fs::read_link(prefix.join("lib/libwsmachine.so")).unwrap();
    assert_eq!(link, std::path::Path::new(&soname));
    let dynamic_section = sh(&format!(
        "readelf -d {}/lib/{soname} || objdump -p {}/lib/{soname}",
        prefix.display(),
        prefix.display()
    ));
    assert!(
        String::from_utf8_lossy(&dynamic_section.stdout).contains(&format!("[{soname}]"))
            || String::from_utf8_lossy(&dynamic_section.stdout)
                .contains(&format!("SONAME               {soname}")),
        "no SONAME {soname}: {}",
        describe(&dynamic_section)
    );
    let header = std::fs::read_to_string(prefix.join("include/wsmachine.h")).unwrap();
    for (name, value) in [
        ("WSM_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("WSM_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("WSM_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        assert!(
            header.contains(&format!("#define {name} {value}")),
            "the header lacks #define {name} {value}"
        );
    }
    let pc = std::fs::read_to_string(prefix.join("lib/pkgconfig/wsmachine.pc")).unwrap();
    assert!(pc.contains(&format!("prefix={}", prefix.display())), "{pc}");
    assert!(
        pc.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))),
        "{pc}"
    );
    for field in ["@PREFIX@", "@VERSION@", "@LIBS_PRIVATE@"] {
        assert!(!pc.contains(field), "{field} not filled in: {pc}");
    }

    // The README's commands: shared library with an rpath, and fully static.
    let env = format!("PKG_CONFIG_PATH={}/lib/pkgconfig", prefix.display());
    let dynamic = out_dir.join("quickstart-shared");
    let static_ = out_dir.join("quickstart-static");
    let build = sh(&format!(
        "export {env}; \
         cc -std=c11 -Wall -Wextra -Werror c-examples/quickstart.c \
            $(pkg-config --cflags --libs wsmachine) \
            -Wl,-rpath,\"$(pkg-config --variable=libdir wsmachine)\" -o {dynamic} && \
         cc -std=c11 -Wall -Wextra -Werror c-examples/quickstart.c \
            $(pkg-config --cflags wsmachine) \
            \"$(pkg-config --variable=libdir wsmachine)/libwsmachine.a\" \
            $(pkg-config --static --libs-only-l wsmachine | sed 's/-lwsmachine//') -o {static_}",
        dynamic = dynamic.display(),
        static_ = static_.display()
    ));
    assert!(build.status.success(), "{}", describe(&build));
    let ldd = sh(&format!("ldd {}", dynamic.display()));
    assert!(
        String::from_utf8_lossy(&ldd.stdout).contains(&prefix.join("lib").display().to_string()),
        "the shared build does not use the installed library: {}",
        describe(&ldd)
    );
    for program in [&dynamic, &static_] {
        let out = run_with_timeout(
            Command::new(program).env_remove("LD_LIBRARY_PATH"),
            Duration::from_secs(30),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", describe(&out));
        assert!(stdout.contains(&format!("wsmachine {}", env!("CARGO_PKG_VERSION"))));
        assert!(
            stdout.contains("client received: Привет, сервер!"),
            "{stdout}"
        );
    }
}
