//! `--trace` on the Rust and C echo servers: one line per frame each way on stderr, checked
//! line by line for a session of a text, a binary, a ping and a close (the peer's address
//! and the time column are cut off).

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod client;
    pub mod examples;
    pub mod process;
    pub mod programs;
    pub mod servers;
}

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::client::{Got, WsClient};
use support::process::KillOnDrop;
use support::programs::{c_programs, rust_example};
use support::servers::Server;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A text, a binary message, a ping (answered before the next text), a close.
fn session(port: u16) {
    let mut client = WsClient::connect(port, "/").unwrap();
    client.send_text("hello").unwrap();
    assert_eq!(
        client.next(TIMEOUT).unwrap(),
        Some(Got::Text("hello".into()))
    );
    client.send_binary(&[1, 2, 0xff]).unwrap();
    assert_eq!(
        client.next(TIMEOUT).unwrap(),
        Some(Got::Binary(vec![1, 2, 0xff]))
    );
    client.conn().send_ping(b"p").unwrap();
    client.send_text("after ping").unwrap();
    assert_eq!(
        client.next(TIMEOUT).unwrap(),
        Some(Got::Text("after ping".into()))
    );
    assert!(client.close().unwrap());
}

/// The frame lines of `stderr`, without the peer and the time.
fn frame_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(" ↑ ") || l.contains(" ↓ "))
        .map(|l| {
            let (_peer, rest) = l.split_once(' ').unwrap();
            let (time, rest) = rest.trim_start().split_once(' ').unwrap();
            assert!(
                time.ends_with('s') && time[..time.len() - 1].parse::<f64>().is_ok(),
                "{l}"
            );
            rest.to_string()
        })
        .collect()
}

fn check(lines: &[String]) {
    let expected = [
        "↓ TEXT   FIN           5 B masked   \"hello\"",
        "↑ TEXT   FIN           5 B unmasked \"hello\"",
        "↓ BINARY FIN           3 B masked   01 02 ff",
        "↑ BINARY FIN           3 B unmasked 01 02 ff",
        "↓ PING   FIN           1 B masked   \"p\"",
        "↑ PONG   FIN           1 B unmasked \"p\"",
        "↓ TEXT   FIN          10 B masked   \"after ping\"",
        "↑ TEXT   FIN          10 B unmasked \"after ping\"",
        "↓ CLOSE  FIN           6 B masked   1000 \"done\"",
    ];
    assert_eq!(lines.len(), expected.len() + 1, "{lines:#?}");
    assert_eq!(lines[..expected.len()], expected, "{lines:#?}");
    // The answer echoes the code (and the reason, once the engine echoes it).
    let answer = &lines[expected.len()];
    assert!(
        answer == "↑ CLOSE  FIN           2 B unmasked 1000 \"\""
            || answer == "↑ CLOSE  FIN           6 B unmasked 1000 \"done\"",
        "{answer}"
    );
}

#[test]
fn rust_echo_server_traces_every_frame() {
    let mut server = KillOnDrop(
        Command::new(rust_example("echo_server"))
            .args(["127.0.0.1:0", "--trace"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let port: u16 = first
        .split("ws://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    session(port);
    let mut text = String::new();
    for line in stderr.lines().map_while(Result::ok) {
        let end = line.contains(" closed: ");
        text.push_str(&line);
        text.push('\n');
        if end {
            break;
        }
    }
    check(&frame_lines(&text));
}

#[test]
fn c_echo_server_traces_every_frame() {
    let mut cmd = Command::new(c_programs(false).join("echo_server"));
    cmd.args(["--trace", "0", "127.0.0.1"]);
    let server = Server::start(cmd, "echo_server-trace");
    session(server.port);
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    check(&frame_lines(&stderr));
}
