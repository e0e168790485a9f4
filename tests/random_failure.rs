//! Issue 10: when the operating system's generator fails, a client gets
//! `Error::NoRandomSource` (`WSM_ERR_NO_RANDOM_SOURCE` in C) instead of masking keys made up
//! from the clock (RFC 6455 §10.3).
//!
//! The failure is real: this test runs itself again with `LD_PRELOAD` of a tiny library
//! whose `getrandom` fails with EIO for 32-byte requests (the engine's seed), while other
//! sizes (the standard library's hash keys) still reach the kernel.
#![cfg(all(target_os = "linux", feature = "std"))]

use std::path::PathBuf;
use std::process::Command;
use wsmachine::{ClientConfig, Connection, Error};

const CHILD: &str = "WSM_RANDOM_FAILURE_CHILD";

const SHIM: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    if (len == 32) {
        errno = EIO;
        return -1;
    }
    return syscall(SYS_getrandom, buf, len, flags);
}
"#;

fn build_shim() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("wsm-random-failure-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let (src, lib) = (dir.join("shim.c"), dir.join("failing_getrandom.so"));
    std::fs::write(&src, SHIM).ok()?;
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .ok()?;
    built.success().then_some(lib)
}

/// What the child checks once its generator fails.
fn child_checks() {
    let got = Connection::client(ClientConfig::new("h", "/")).err();
    assert_eq!(got, Some(Error::NoRandomSource));
    #[cfg(feature = "ffi")]
    {
        use wsmachine::ffi::client_config::{wsm_client_config_free, wsm_client_config_new};
        use wsmachine::ffi::conn::{wsm_conn, wsm_conn_client_new};
        use wsmachine::ffi::result::wsm_result;
        let mut config = std::ptr::null_mut();
        let mut conn: *mut wsm_conn = std::ptr::null_mut();
        // SAFETY: NUL-terminated literals and pointers to locals; `config` is freed once.
        unsafe {
            assert_eq!(
                wsm_client_config_new(c"h".as_ptr(), c"/".as_ptr(), &mut config),
                wsm_result::WSM_OK
            );
            assert_eq!(
                wsm_conn_client_new(config, &mut conn),
                wsm_result::WSM_ERR_NO_RANDOM_SOURCE
            );
            wsm_client_config_free(config);
        }
        assert!(conn.is_null());
    }
    // A source of one's own still works.
    assert!(
        Connection::client(ClientConfig::new("h", "/").random(|b: &mut [u8]| b.fill(7))).is_ok()
    );
}

#[test]
fn a_failing_os_generator_is_reported_not_replaced() {
    if std::env::var_os(CHILD).is_some() {
        child_checks();
        return;
    }
    let Some(shim) = build_shim() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "cannot build the getrandom shim"
        );
        eprintln!("skipped: no C compiler for the getrandom shim");
        return;
    };
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_failing_os_generator_is_reported_not_replaced",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("LD_PRELOAD", &shim)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(shim.parent().unwrap());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
