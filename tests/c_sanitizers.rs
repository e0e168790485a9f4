//! The C test program and the C examples again, built with
//! `-fsanitize=address,undefined` and run under `valgrind --error-exitcode=1
//! --leak-check=full`: no error and no leak, in the C code or in the library under it.
//!
//! valgrind missing: a visible skip, or a failure under `CI=true` (`.ci/run` installs it).

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod client;
    pub mod examples;
    pub mod process;
    pub mod programs;
    pub mod servers;
    pub mod skip;
}

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use support::client::{Got, WsClient};
use support::process::{describe, have, run_with_timeout};
use support::programs::c_programs;
use support::servers::Server;
use support::skip;

const TIMEOUT: Duration = Duration::from_secs(240);
const VALGRIND: [&str; 4] = [
    "--error-exitcode=1",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,possible",
    "--quiet",
];

/// A command for a sanitized program: leaks reported, any UB fatal.
fn sanitized(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env(
        "ASAN_OPTIONS",
        "detect_leaks=1:abort_on_error=0:exitcode=23",
    )
    .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    cmd
}

fn valgrind(program: &Path) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.args(VALGRIND).arg(program);
    cmd
}

/// valgrind, or why it is missing.
fn valgrind_installed() -> Result<(), String> {
    match have("valgrind") {
        true => Ok(()),
        false => Err("valgrind is not installed (apt-get install valgrind)".into()),
    }
}

/// No sanitizer or valgrind report in what a program wrote.
fn assert_no_reports(what: &str, stderr: &str) {
    for marker in [
        "ERROR: AddressSanitizer",
        "ERROR: LeakSanitizer",
        "runtime error:",
        "definitely lost",
        "Invalid read",
        "Invalid write",
        "uninitialised",
    ] {
        assert!(!stderr.contains(marker), "{what}: {marker}\n{stderr}");
    }
}

fn assert_clean_run(what: &str, out: &Output) {
    assert!(out.status.success(), "{what}: {}", describe(out));
    assert_no_reports(what, &String::from_utf8_lossy(&out.stderr));
}

/// A few clients exchanging with an echo server, then the server is stopped.
fn exercise_echo_server(server: Server, client: Command) {
    let mut c = client;
    let out = run_with_timeout(c.arg(server.url("/")), TIMEOUT);
    assert_clean_run("client", &out);
    for i in 0..3 {
        // The second one compresses (permessage-deflate), so its code paths run too.
        let mut ws = WsClient::connect_with(server.port, "/", i == 1).unwrap();
        assert_eq!(ws.conn().extensions().is_empty(), i != 1);
        let text = format!("message {i} ✓");
        ws.send_text(&text).unwrap();
        assert_eq!(ws.next(TIMEOUT).unwrap(), Some(Got::Text(text)));
        ws.send_binary(&vec![i as u8; 70_000]).unwrap();
        assert_eq!(
            ws.next(TIMEOUT).unwrap(),
            Some(Got::Binary(vec![i as u8; 70_000]))
        );
        if i < 2 {
            assert!(ws.close().unwrap());
        }
        // The last one stays open: the server closes it on shutdown.
    }
    let (status, stderr) = server.stop();
    assert!(status.success(), "echo server exit {status}:\n{stderr}");
    assert_no_reports("echo server", &stderr);
    assert!(stderr.contains("served 4 connections"), "{stderr}");
}

fn exercise_broadcast_server(server: Server) {
    let mut clients: Vec<WsClient> = (0..3)
        .map(|_| WsClient::connect(server.port, "/").unwrap())
        .collect();
    clients[0].send_text("hello all").unwrap();
    for c in &mut clients[1..] {
        assert_eq!(
            c.next(TIMEOUT).unwrap(),
            Some(Got::Text("hello all".into()))
        );
    }
    for c in clients {
        assert!(c.close().unwrap());
    }
    let (status, stderr) = server.stop();
    assert!(
        status.success(),
        "broadcast server exit {status}:\n{stderr}"
    );
    assert_no_reports("broadcast server", &stderr);
}

#[test]
fn api_test_under_address_and_undefined_sanitizers() {
    let dir = c_programs(true);
    let out = run_with_timeout(&mut sanitized(&dir.join("api_test")), TIMEOUT);
    assert_clean_run("api_test (ASan/UBSan)", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 0 failed"));
    let out = run_with_timeout(&mut sanitized(&dir.join("quickstart")), TIMEOUT);
    assert_clean_run("quickstart (ASan/UBSan)", &out);
}

#[test]
fn echo_server_and_client_under_sanitizers() {
    let dir = c_programs(true);
    let mut server = sanitized(&dir.join("echo_server"));
    server.arg("0");
    exercise_echo_server(
        Server::start(server, "echo_server-asan"),
        sanitized(&dir.join("client")),
    );
}

#[test]
fn broadcast_server_under_sanitizers() {
    let mut server = sanitized(&c_programs(true).join("broadcast_server"));
    server.arg("0");
    exercise_broadcast_server(Server::start(server, "broadcast_server-asan"));
}

#[test]
fn api_test_under_valgrind() {
    if !skip::ready(valgrind_installed()) {
        return;
    }
    let dir = c_programs(false);
    let out = run_with_timeout(&mut valgrind(&dir.join("api_test")), TIMEOUT);
    assert_clean_run("api_test (valgrind)", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 0 failed"));
    let out = run_with_timeout(&mut valgrind(&dir.join("quickstart")), TIMEOUT);
    assert_clean_run("quickstart (valgrind)", &out);
}

#[test]
fn echo_server_and_client_under_valgrind() {
    if !skip::ready(valgrind_installed()) {
        return;
    }
    let dir = c_programs(false);
    let mut server = valgrind(&dir.join("echo_server"));
    server.arg("0");
    exercise_echo_server(
        Server::start(server, "echo_server-valgrind"),
        valgrind(&dir.join("client")),
    );
}

#[test]
fn broadcast_server_under_valgrind() {
    if !skip::ready(valgrind_installed()) {
        return;
    }
    let mut server = valgrind(&c_programs(false).join("broadcast_server"));
    server.arg("0");
    exercise_broadcast_server(Server::start(server, "broadcast_server-valgrind"));
}
