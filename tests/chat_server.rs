//! The chat server (`examples/chat_server.rs`) and its page (`examples/chat.html`):
//! three headless Chromium pages (driven by playwright-core from `tests/js/chat.js`) see
//! every message in one order; a client that stops reading is dropped with 1008 while the
//! pages carry on; the same page works with the C broadcast server; keepalive drops a client
//! that answers no ping.
//!
//! The client that stops reading is a raw TCP client that reads the 101 answer and nothing
//! after: a Chromium page cannot be made to stop reading (with its main thread blocked, the
//! browser still took ten megabytes of messages off the socket).
//!
//! Without Node, the npm packages of `tests/js` (`npm ci`) or /usr/bin/chromium, the browser
//! tests print a SKIP line and pass, except under `CI=true`, where they fail.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod js;
    pub mod process;
    pub mod programs;
    pub mod raw;
    pub mod skip;
}

use serde_json::{json, Value};
use std::io::{ErrorKind, Read};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::js::{self, node, Process, PEER_TIMEOUT};
use support::process::{describe, listening_port};
use support::programs;
use support::raw;

/// The slow-client bound the flood test gives the server (`--max-buffered`).
/// A round of the flood queues 3 pages × 2 × 32000 bytes on each page's connection at
/// most: well under it, so that the pages, which read, are never found too slow.
const MAX_BUFFERED: usize = 512 << 10;
/// The chat server's largest message, and a frame header's largest size.
const MAX_MESSAGE: usize = 64 << 10;
const MAX_HEADER: usize = 14;

fn peers_ready() -> bool {
    js::ready(&[js::node_packages, js::chromium])
}

/// The chat server on an ephemeral port of 127.0.0.1 with `args`; the process and its port.
fn chat_server(args: &[&str]) -> (Process, u16) {
    let mut cmd = Command::new(programs::rust_example("chat_server"));
    cmd.arg("127.0.0.1:0").args(args);
    let (process, line) = Process::start(cmd, "chat server listening on ws://");
    let port = line
        .split("ws://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected readiness line {line:?}"));
    (process, port)
}

/// Runs `tests/js/chat.js` with `config`; what each page saw, in page order. One browser at
/// a time: on a 2-core machine several would starve each other.
fn run_pages(config: Value) -> Vec<Value> {
    static ONE_BROWSER: Mutex<()> = Mutex::new(());
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let out = node("chat.js", &[&config.to_string()]);
    assert!(out.status.success(), "chat.js failed: {}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with("browser ")),
        "{}",
        describe(&out)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("page "))
        .map(|rest| serde_json::from_str(rest.split_once(' ').expect("page I JSON").1).unwrap())
        .collect()
}

/// The texts a page received (the server's notices aside).
fn received(page: &Value) -> Vec<String> {
    page["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

/// The messages of `received` that page `sender` sent as `kind` ("pageI KIND J"), by J.
fn from_sender(received: &[String], sender: usize, kind: &str) -> Vec<usize> {
    let prefix = format!("page{sender} {kind} ");
    received
        .iter()
        .filter_map(|t| t.strip_prefix(&prefix))
        .map(|j| j.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

/// The page's table is DevTools' Messages tab: direction, data, length, time; every text
/// the page sent is an "↑" row with its UTF-8 length, every text received a "↓" row.
fn check_frame_table(page: &Value) {
    assert_eq!(
        page["headers"],
        json!(["", "Data", "Length", "Time"]),
        "{page}"
    );
    let frames = page["frames"].as_array().unwrap();
    assert!(frames.len() >= 2, "{page}");
    assert_eq!(frames[0]["data"], "open", "{page}");
    assert!(page["rows"].as_u64().unwrap() >= frames.len() as u64);
    let mut last_time = 0;
    for f in frames {
        let time = f["time"].as_u64().unwrap();
        assert!(time >= last_time, "{f}");
        last_time = time;
        match f["dir"].as_str().unwrap() {
            "↑" => assert_eq!(f["kind"], "sent", "{f}"),
            "↓" => assert!(f["kind"].as_str().unwrap().starts_with("received"), "{f}"),
            "" => assert_eq!(f["kind"], "event", "{f}"),
            other => panic!("direction {other:?}: {f}"),
        }
        if f["dir"] != "" {
            let data = f["data"].as_str().unwrap();
            // Data is cut to 24 characters in the report; shorter texts are whole.
            if data.chars().count() < 24 {
                assert_eq!(f["length"].as_u64().unwrap(), data.len() as u64, "{f}");
            }
        }
    }
    assert!(frames.iter().any(|f| f["dir"] == "↑"), "{page}");
    assert!(frames.iter().any(|f| f["dir"] == "↓"), "{page}");
}

#[test]
fn three_chromium_pages_see_every_message_in_the_same_order() {
    if !peers_ready() {
        return;
    }
    const PAGES: usize = 3;
    const MESSAGES: usize = 30;
    let (mut server, port) = chat_server(&[]);
    let pages = run_pages(json!({
        "url": format!("http://127.0.0.1:{port}/"), "pages": PAGES, "messages": MESSAGES,
        "notices": true,
    }));
    assert_eq!(pages.len(), PAGES);
    let first = received(&pages[0]);
    assert_eq!(first.len(), PAGES * MESSAGES, "{first:?}");
    for page in &pages {
        // One order for everyone, the sender included.
        assert_eq!(received(page), first);
        check_frame_table(page);
    }
    // Each page's messages, complete and in the order it sent them.
    for sender in 0..PAGES {
        assert_eq!(
            from_sender(&first, sender, "message"),
            (0..MESSAGES).collect::<Vec<_>>()
        );
    }
    // The join notices: each page saw itself and those after it join.
    for (i, page) in pages.iter().enumerate() {
        let notices = page["notices"].as_array().unwrap();
        let joins: Vec<_> = notices
            .iter()
            .filter_map(|n| n.as_str().unwrap().strip_suffix(" online)"))
            .filter_map(|n| n.rsplit('(').next())
            .collect();
        let expected: Vec<_> = (i + 1..=PAGES).map(|n| n.to_string()).collect();
        assert_eq!(joins, expected, "{notices:?}");
    }
    // The server's side: three joins, and three leaves when the browser closed.
    server.wait_for(|l| l.ends_with(" joined (3 online)"), PEER_TIMEOUT);
    server.wait_for(
        |l| l.contains(" left (") && l.contains(", 0 online)"),
        PEER_TIMEOUT,
    );
}

#[test]
fn a_client_that_stops_reading_is_dropped_while_three_pages_carry_on() {
    if !peers_ready() {
        return;
    }
    const PAGES: usize = 3;
    const AFTER: usize = 10;
    let bound = MAX_BUFFERED.to_string();
    let (mut server, port) = chat_server(&["--max-buffered", &bound]);
    let (mut slow, _) = raw::open(port, false);
    let slow_addr = slow.local_addr().unwrap().to_string();
    server.wait_for(
        |l| l == format!("{slow_addr} joined (1 online)"),
        PEER_TIMEOUT,
    );
    let pages = run_pages(json!({
        "url": format!("http://127.0.0.1:{port}/"), "pages": PAGES, "notices": true,
        "present": 1,
        "flood": { "slow": slow_addr, "size": 32000, "batch": 2, "maxBatches": 300,
                   "after": AFTER },
    }));

    // The server closed it with 1008 once its unsent output passed the bound, which held
    // it to at most the bound plus one message.
    let too_slow = server.wait_for(
        |l| l.starts_with(&format!("{slow_addr} too slow: ")),
        PEER_TIMEOUT,
    );
    let waiting: usize = too_slow
        .split("too slow: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{too_slow}"));
    assert!(
        waiting > MAX_BUFFERED && waiting <= MAX_BUFFERED + MAX_MESSAGE + MAX_HEADER,
        "{too_slow}"
    );
    assert!(too_slow.ends_with("closing with 1008"), "{too_slow}");
    let dropped = server.wait_for(
        |l| l.starts_with(&format!("{slow_addr} dropped: too slow (1008, ")),
        PEER_TIMEOUT,
    );
    assert!(dropped.ends_with("clean=false"), "{dropped}");

    // The pages carried on: each saw it found too slow then dropped, and every message
    // after that, all in one order.
    let first = received(&pages[0]);
    for page in &pages {
        assert_eq!(received(page), first);
        let notices = page["notices"].as_array().unwrap();
        let at = |notice: String| {
            notices
                .iter()
                .position(|n| n == &notice)
                .unwrap_or_else(|| panic!("no {notice:?} in {notices:?}"))
        };
        let too_slow = at(format!("* {slow_addr} too slow: closing with 1008"));
        let dropped = at(format!(
            "* {slow_addr} dropped: too slow (1008, {PAGES} online)"
        ));
        assert!(too_slow < dropped, "{notices:?}");
        assert_eq!(page["state"], 1, "the page is still open");
    }
    for sender in 0..PAGES {
        assert_eq!(
            from_sender(&first, sender, "after"),
            (0..AFTER).collect::<Vec<_>>()
        );
        let big = from_sender(&first, sender, "big");
        assert_eq!(big, (0..big.len()).collect::<Vec<_>>());
        assert!(!big.is_empty());
    }

    // The slow client's transport was ended by the server: what the kernel holds for it
    // drains, then the stream ends (EOF or a reset).
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = vec![0; 1 << 16];
    loop {
        assert!(
            Instant::now() < deadline,
            "the slow client's stream did not end"
        );
        match slow.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                assert!(
                    !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
                    "the slow client's stream is still open"
                );
                break;
            }
        }
    }
}

#[test]
fn the_chat_page_works_with_the_c_broadcast_server() {
    if !peers_ready() {
        return;
    }
    const PAGES: usize = 3;
    const MESSAGES: usize = 10;
    let program = programs::c_programs(false).join("broadcast_server");
    let mut cmd = Command::new(program);
    cmd.args(["0", "127.0.0.1"]);
    let (mut server, line) = Process::start(cmd, "listening on 127.0.0.1:");
    let port = listening_port(&line).unwrap_or_else(|| panic!("{line:?}"));
    // The C server serves no page: the page comes from the repository as a file.
    let page_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/chat.html");
    let pages = run_pages(json!({
        "url": format!("file://{}?url=ws://127.0.0.1:{port}/", page_path.display()),
        "pages": PAGES, "messages": MESSAGES, "notices": false, "echoesSender": false,
    }));
    assert_eq!(pages.len(), PAGES);
    for (i, page) in pages.iter().enumerate() {
        let got = received(page);
        // Every other page's messages, in the order each sent them; not its own (this
        // server leaves the sender out).
        assert_eq!(got.len(), (PAGES - 1) * MESSAGES, "{got:?}");
        for sender in 0..PAGES {
            let expected: Vec<usize> = if sender == i {
                Vec::new()
            } else {
                (0..MESSAGES).collect()
            };
            assert_eq!(from_sender(&got, sender, "message"), expected);
        }
        check_frame_table(page);
    }
    js::terminate(&mut server);
    server.wait_for(|l| l.contains("broadcast server: served"), PEER_TIMEOUT);
}

/// Keepalive (the engine's `Options::keepalive`): a client that reads but answers no ping is
/// dropped after the interval and the pong timeout, and the others hear it left.
#[test]
fn keepalive_drops_a_client_that_answers_no_ping() {
    let (mut server, port) = chat_server(&["--ping-interval-ms", "300"]);
    let (silent, early) = raw::open(port, false);
    let addr = silent.local_addr().unwrap().to_string();
    server.wait_for(|l| l == format!("{addr} joined (1 online)"), PEER_TIMEOUT);
    // It reads (so the pings reach it) and never answers; a server that never closed it
    // would end the loop with the read timeout (and fail the checks below).
    let mut reader = silent.try_clone().unwrap();
    reader
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let started = Instant::now();
    let mut seen = early;
    let mut buf = [0; 4096];
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    // A ping (opcode 9, unmasked, the 8-byte time) came, then a close with 1011, then the end.
    assert!(seen.windows(2).any(|w| w == [0x89, 0x08]), "{seen:?}");
    assert!(
        seen.windows(4).any(|w| w == [0x88, 0x13, 0x03, 0xf3]),
        "{seen:?}"
    );
    // A ping one to two intervals after the last input, then a whole interval for the pong.
    assert!(started.elapsed() >= Duration::from_millis(500));
    let left = server.wait_for(|l| l.starts_with(&format!("{addr} left (")), PEER_TIMEOUT);
    assert!(left.contains("(1006, 0 online) clean=false"), "{left}");
}
