//! Headless Chromium (Debian's package, driven by playwright-core from `tests/js/browser.js`)
//! against the Rust, tokio and C echo servers over 127.0.0.1, running the flows of
//! `examples/page.html`: `new WebSocket` with two offered subprotocols, readyState CONNECTING
//! then OPEN, the greeting sent from `onopen` and echoed, binary as `ArrayBuffer` and `Blob`,
//! 1 MiB messages, `close(4000, "bye")` ending with the reason echoed; subprotocols the
//! server does not know (`["chat", "superchat"]`), taken by the Rust and C echo servers'
//! `SubprotocolPolicy::FirstOffered`; the server closing on the page (the echo servers'
//! `close-me` hook); the server's keepalive pings answered by the browser (counted on the
//! server's side, as JS never sees pings); and the page the Rust echo server serves at `/`.
//!
//! Chromium always offers permessage-deflate: one Rust server accepts it, one
//! (`--no-deflate`) declines it, the C server accepts it.
//!
//! Without Node, the npm packages of `tests/js` (`npm ci`) or /usr/bin/chromium, the tests
//! print a SKIP line and pass, except under `CI=true`, where they fail.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod js;
    pub mod process;
    pub mod programs;
    pub mod skip;
}

use serde_json::{json, Value};
use std::sync::Mutex;
use support::js::{self, node, Process, GREETING, PEER_TIMEOUT};
use support::process::describe;
use support::programs;

/// Keepalive interval (and pong timeout) of the servers under test: short, so that an idle
/// page is pinged within the idle flow, long enough for a loaded 2-core machine to answer.
const PING_MS: u64 = 1500;
/// How long the idle flow keeps the page silent: the first ping goes out between one and two
/// intervals after the last input.
const IDLE_MS: u64 = 4500;

fn peers_ready() -> bool {
    js::ready(&[js::node_packages, js::chromium])
}

/// Runs the flows in one headless Chromium; returns each flow's result by name. One browser
/// at a time: on a 2-core machine several would starve each other (and their pongs).
fn run_browser(flows: Value) -> serde_json::Map<String, Value> {
    static ONE_BROWSER: Mutex<()> = Mutex::new(());
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let config = json!({ "flows": flows }).to_string();
    let out = node("browser.js", &[&config]);
    assert!(
        out.status.success(),
        "browser.js failed: {}",
        describe(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut results = serde_json::Map::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("flow ") {
            let (name, json) = rest.split_once(' ').expect("flow NAME JSON");
            results.insert(name.to_string(), serde_json::from_str(json).unwrap());
        }
    }
    assert!(
        stdout.lines().any(|l| l.starts_with("browser ")),
        "{}",
        describe(&out)
    );
    results
}

/// The four flows against `ws_url`, with the page loaded from `page`.
fn flows(page: &str, ws_url: &str) -> Value {
    json!([
        { "name": "echo", "page": page, "flow": "echoFlow", "args": [ws_url] },
        { "name": "server_close", "page": page, "flow": "serverCloseFlow",
          "args": [ws_url, 4001, "server says bye"] },
        { "name": "idle", "page": page, "flow": "idleFlow", "args": [ws_url, IDLE_MS] },
        { "name": "offered", "page": page, "flow": "offeredProtocolsFlow",
          "args": [ws_url, ["chat", "superchat"]] },
    ])
}

/// `new WebSocket(url, ["chat", "superchat"])`, protocols the echo servers do not speak:
/// with `SubprotocolPolicy::FirstOffered` the server answers "chat" and the page opens,
/// echoes and closes with 4000 "bye" (echoed with its reason); a server that names none of
/// them sees the browser fail the connection (the rule `ServerConfig`'s docs give).
fn check_offered(r: &Value, first_offered: bool) {
    if first_offered {
        assert_eq!(
            r,
            &json!({"first": "open", "protocol": "chat", "text": GREETING,
                    "close": {"wasClean": true, "code": 4000, "reason": "bye"}}),
        );
    } else {
        assert_eq!(
            r,
            &json!({"first": "error", "protocol": "",
                    "close": {"wasClean": false, "code": 1006, "reason": ""}}),
        );
    }
}

/// The whole browser flow went as it should; `deflate` is whether the server accepts
/// permessage-deflate.
fn check_echo_flow(r: &Value, deflate: bool) {
    assert_eq!(r["states"], json!(["CONNECTING", "OPEN"]), "{r}");
    // The page offers ["chat.v1", "chat.v2"]; the servers prefer chat.v2.
    assert_eq!(r["protocol"], "chat.v2", "{r}");
    let extensions = r["extensions"].as_str().unwrap();
    if deflate {
        assert!(extensions.starts_with("permessage-deflate"), "{r}");
    } else {
        assert_eq!(extensions, "", "{r}");
    }
    assert_eq!(r["text"], GREETING, "{r}");
    assert_eq!(
        r["arrayBuffer"],
        json!({"type": "ArrayBuffer", "same": true}),
        "{r}"
    );
    assert_eq!(r["blob"], json!({"type": "Blob", "same": true}), "{r}");
    assert_eq!(
        r["mebibyteBinary"],
        json!({"length": 1 << 20, "same": true}),
        "{r}"
    );
    assert_eq!(r["mebibyteText"]["same"], true, "{r}");
    assert_eq!(r["closingState"], "CLOSING", "{r}");
    // The engine answers a close frame with the peer's code and reason, so the page's
    // onclose sees 4000 "bye".
    assert_eq!(
        r["close"],
        json!({"wasClean": true, "code": 4000, "reason": "bye"}),
        "{r}"
    );
    assert_eq!(r["finalState"], "CLOSED", "{r}");
}

fn check_server_close(r: &Value) {
    assert_eq!(
        r["close"],
        json!({"wasClean": true, "code": 4001, "reason": "server says bye"}),
        "{r}"
    );
    assert_eq!(r["finalState"], "CLOSED", "{r}");
}

fn check_idle(r: &Value) {
    assert_eq!(r["text"], GREETING, "{r}");
    assert_eq!(
        r["close"],
        json!({"wasClean": true, "code": 1000, "reason": ""}),
        "{r}"
    );
}

/// The Rust server's line for the connection that ended with `code`.
fn closed_line(server: &mut Process, code: u16) -> String {
    closed_line_with(server, code, "")
}

/// The Rust server's line for the connection that ended with `code` and holds `also`.
fn closed_line_with(server: &mut Process, code: u16, also: &str) -> String {
    let needle = format!("code={code} ");
    server.wait_for(
        |l| l.contains(" closed: ") && l.contains(&needle) && l.contains(also),
        PEER_TIMEOUT,
    )
}

/// The `pongs=N` of a Rust server line.
fn pongs(line: &str) -> u64 {
    line.split("pongs=")
        .nth(1)
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pongs= in {line:?}"))
}

fn rust_server(args: &[&str]) -> (Process, u16) {
    program_server(&programs::rust_example("echo_server"), args)
}

/// An echo server program that takes the Rust echo server's flags.
fn program_server(example: &std::path::Path, args: &[&str]) -> (Process, u16) {
    let ping = PING_MS.to_string();
    let mut all = vec!["--ping-interval-ms", ping.as_str()];
    all.extend_from_slice(args);
    js::rust_echo_server(example, &all)
}

fn against_rust_server(deflate: bool) {
    let (server, port) = rust_server(if deflate { &[] } else { &["--no-deflate"] });
    against_server(server, port, deflate, true);
}

/// The page's flows against an echo server that serves the page and logs like the Rust one;
/// `first_offered` is whether it takes the first subprotocol offered when it knows none.
fn against_server(mut server: Process, port: u16, deflate: bool, first_offered: bool) {
    let page = format!("http://127.0.0.1:{port}/?manual");
    let results = run_browser(flows(&page, &format!("ws://127.0.0.1:{port}/")));
    check_echo_flow(&results["echo"], deflate);
    check_server_close(&results["server_close"]);
    check_idle(&results["idle"]);
    check_offered(&results["offered"], first_offered);

    // The server's side: clean closes with the page's codes, the subprotocol it chose, and
    // pongs from the idle page (the browser answered the keepalive pings).
    let echo = closed_line_with(&mut server, 4000, "subprotocol=\"chat.v2\"");
    assert!(
        echo.contains("clean=true") && echo.contains("reason=\"bye\""),
        "{echo}"
    );
    assert!(echo.contains("echoed=5 subprotocol=\"chat.v2\""), "{echo}");
    if first_offered {
        let offered = closed_line_with(&mut server, 4000, "subprotocol=\"chat\"");
        assert!(
            offered.contains("clean=true code=4000 reason=\"bye\" echoed=1 "),
            "{offered}"
        );
    }
    assert_eq!(echo.contains("permessage-deflate"), deflate, "{echo}");
    let closed = closed_line(&mut server, 4001);
    assert!(closed.contains("clean=true"), "{closed}");
    let idle = closed_line(&mut server, 1000);
    assert!(idle.contains("clean=true"), "{idle}");
    assert!(
        pongs(&idle) >= 1,
        "no pong came back from the idle page: {idle}"
    );
}

#[test]
fn chromium_against_the_rust_echo_server_with_permessage_deflate() {
    if !peers_ready() {
        return;
    }
    against_rust_server(true);
}

#[test]
fn chromium_against_the_rust_echo_server_declining_permessage_deflate() {
    if !peers_ready() {
        return;
    }
    against_rust_server(false);
}

/// The README's main command serves a page at `/` that runs the flow by itself, as a person
/// opening http://127.0.0.1:9001/ sees it.
#[test]
fn chromium_runs_the_page_the_rust_echo_server_serves() {
    if !peers_ready() {
        return;
    }
    let (mut server, port) = rust_server(&[]);
    let page = format!("http://127.0.0.1:{port}/");
    let results = run_browser(json!([{ "name": "page", "page": page, "flow": "auto" }]));
    let log = results["page"]["log"].as_str().unwrap();
    assert!(log.contains("open: protocol \"chat.v2\""), "{log}");
    assert!(
        log.contains(&format!("received text \"{GREETING}\"")),
        "{log}"
    );
    assert!(
        log.contains("received ArrayBuffer (1048576 bytes)"),
        "{log}"
    );
    assert!(log.contains("received Blob (1000 bytes)"), "{log}");
    assert!(log.contains("close: wasClean true, code 4000"), "{log}");
    assert!(log.contains("done: "), "{log}");
    // The page itself came over plain HTTP from the same server.
    server.wait_for(|l| l.contains("plain HTTP request answered"), PEER_TIMEOUT);
    closed_line(&mut server, 4000);
}

/// The echo server on tokio (`wsmachine-tokio`'s `tokio_echo_server`), page included.
#[test]
fn chromium_against_the_tokio_echo_server() {
    if !peers_ready() {
        return;
    }
    let (server, port) = program_server(&programs::tokio_example("tokio_echo_server"), &[]);
    // Like the others, it takes the first subprotocol offered when it knows none.
    against_server(server, port, true, true);
}

#[test]
fn chromium_against_the_c_echo_server() {
    if !peers_ready() {
        return;
    }
    let program = programs::c_programs(false).join("echo_server");
    let (mut server, port) = js::c_echo_server(&program, PING_MS);
    // The C server serves no page: the page comes from the repository as a file.
    let page_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/page.html");
    let page = format!("file://{}?manual", page_path.display());
    let results = run_browser(flows(&page, &format!("ws://127.0.0.1:{port}/")));
    check_echo_flow(&results["echo"], true);
    check_server_close(&results["server_close"]);
    check_idle(&results["idle"]);
    check_offered(&results["offered"], true);
    js::terminate(&mut server);
    let exit = server.wait_for(|l| l.contains("echo server: served"), PEER_TIMEOUT);
    let pongs: u64 = exit
        .split(", ")
        .nth(1)
        .and_then(|p| p.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected exit line {exit:?}"));
    assert!(pongs >= 1, "no pong came back from the idle page: {exit}");
}
