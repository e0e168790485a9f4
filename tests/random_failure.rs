//! Issue 10: when the operating system's generator fails, a client gets
//! `Error::NoRandomSource` (`WSM_ERR_NO_RANDOM_SOURCE` in C) instead of masking keys made up
//! from the clock (RFC 6455 §10.3).
//!
//! The failure is real: this test runs itself again with `LD_PRELOAD` of a tiny library
//! whose `getrandom` fails with EIO for 32-byte requests (the engine's seed) and 256-byte
//! ones (a batch of masking keys drawn from an `OsRandom` the application configured),
//! while other sizes (the standard library's hash keys, the 16-byte nonce) still reach the
//! kernel.
//!
//! A source that fails later, in the middle of a connection, is an error too: a send
//! returns `Error::NoRandomSource` and writes nothing; a frame the engine owes on its own
//! (a pong) fails the connection with `Failure::NoRandomSource`. Never a panic, never a
//! predictable key.
#![cfg(all(target_os = "linux", feature = "std"))]

use std::path::PathBuf;
use std::process::Command;
use wsmachine::{
    ClientConfig, CloseCode, Connection, Error, Event, Failure, OsRandom, RandomSource,
    ServerConfig, State,
};

const CHILD: &str = "WSM_RANDOM_FAILURE_CHILD";

const SHIM: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    if (len == 32 || len == 256) {
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
    // An OsRandom given as the client's source: the 16-byte nonce is drawn, the first batch
    // of masking keys (256 bytes) fails, and the send says so instead of panicking.
    let mut client = Connection::client(ClientConfig::new("h", "/").random(OsRandom)).unwrap();
    let mut server = Connection::server(ServerConfig::new());
    pump(&mut client, &mut server);
    assert_eq!(client.state(), State::Open);
    assert_eq!(client.send_text("masked?"), Err(Error::NoRandomSource));
    assert!(client.pending_output().is_empty());
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

/// Shuttles bytes between a client and a server until both are quiet; the events of each.
fn pump(client: &mut Connection, server: &mut Connection) -> (Vec<Event>, Vec<Event>) {
    let (mut c, mut s) = (Vec::new(), Vec::new());
    loop {
        c.extend(std::iter::from_fn(|| client.poll_event()));
        s.extend(std::iter::from_fn(|| server.poll_event()));
        let (to_server, to_client) = (client.take_output(), server.take_output());
        if to_server.is_empty() && to_client.is_empty() {
            return (c, s);
        }
        server.receive(&to_server);
        client.receive(&to_client);
    }
}

/// A source that serves `good` draws, then fails; its infallible `fill` must never be used.
struct Flaky {
    good: usize,
}

impl RandomSource for Flaky {
    fn fill(&mut self, _: &mut [u8]) {
        panic!("the engine called the infallible fill");
    }

    fn try_fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        if self.good == 0 {
            return Err(Error::NoRandomSource);
        }
        self.good -= 1;
        buf.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = i as u8 ^ 0x5a);
        Ok(())
    }
}

fn open_with(good: usize) -> (Connection, Connection) {
    let config = ClientConfig::new("h", "/").random(Flaky { good });
    let mut client = Connection::client(config).unwrap();
    let mut server = Connection::server(ServerConfig::new());
    let (c, s) = pump(&mut client, &mut server);
    assert!(matches!(c[..], [Event::Open { .. }]), "{c:?}");
    assert!(matches!(s[..], [Event::Open { .. }]), "{s:?}");
    (client, server)
}

#[test]
fn a_source_failing_mid_connection_is_an_error_not_a_panic() {
    // No draw at all: no client.
    let got = Connection::client(ClientConfig::new("h", "/").random(Flaky { good: 0 })).err();
    assert_eq!(got, Some(Error::NoRandomSource));

    // The nonce, then nothing: every command that would mask a frame fails, writing nothing,
    // and the connection stays open.
    let (mut client, _server) = open_with(1);
    assert_eq!(client.send_text("a"), Err(Error::NoRandomSource));
    assert_eq!(client.send_binary(b"b"), Err(Error::NoRandomSource));
    assert_eq!(client.send_ping(b"p"), Err(Error::NoRandomSource));
    assert_eq!(
        client.close(CloseCode::NORMAL, "bye"),
        Err(Error::NoRandomSource)
    );
    assert!(client.pending_output().is_empty());
    assert_eq!(client.state(), State::Open);

    // A ping from the server owes a pong the client cannot mask: the connection fails
    // (1006, no frame written) instead.
    let (mut client, mut server) = open_with(1);
    server.send_ping(b"hello").unwrap();
    client.receive(&server.take_output());
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    assert!(
        matches!(
            &events[..],
            [
                Event::Ping(_),
                Event::Error(Failure::NoRandomSource),
                Event::Closed {
                    clean: false,
                    code: CloseCode::ABNORMAL,
                    ..
                }
            ]
        ),
        "{events:?}"
    );
    assert!(client.pending_output().is_empty());
    assert_eq!(client.state(), State::Closed);

    // One batch (64 keys), then nothing: 64 frames go out, the 65th send fails.
    let (mut client, mut server) = open_with(2);
    for i in 0..64 {
        client.send_text(&format!("{i}")).unwrap();
    }
    assert_eq!(client.send_text("65th"), Err(Error::NoRandomSource));
    let (_, s) = pump(&mut client, &mut server);
    assert_eq!(s.len(), 64);
}
