//! Node's `ws` package (npm, the version pinned in `tests/js/package.json`) in both roles,
//! over 127.0.0.1:
//!
//! * its client (`tests/js/ws_client.js`) against the Rust echo server example, the C echo
//!   server and the tokio echo server (`wsmachine-tokio`): text, binary, 4 MiB and 1 MiB messages, fragmented sends (a code point cut
//!   between frames), its ping and our pong, our keepalive pings and its pongs, and every
//!   close path (code and reason, an empty close frame, the server closing, a dropped TCP
//!   connection), with and without permessage-deflate;
//! * our client (a `Connection` driven by the examples' blocking driver) against its server
//!   (`tests/js/ws_server.js`): the same messages, fragmented messages from it, pings both
//!   ways, and every close path from either side.
//!
//! Without Node or the npm packages of `tests/js` (`npm ci`) the tests print a SKIP line and
//! pass, except under `CI=true`, where they fail.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod examples;
    pub mod js;
    pub mod process;
    pub mod programs;
    pub mod skip;
}

use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use support::examples::driver::Driver;
use support::examples::echo;
use support::js::{self, node, Process, GREETING, PEER_TIMEOUT};
use support::process::describe;
use support::programs;
use wsmachine::{ClientConfig, CloseCode, Connection, Event, MessageKind, Options};

/// The echo servers' keepalive interval here: the client's keepalive scenario idles 4.5 s,
/// and the first ping goes out between one and two intervals after the last input.
const PING_MS: u64 = 1500;

const ALL_SCENARIOS: [&str; 10] = [
    "text",
    "binary",
    "large",
    "fragmented",
    "ping",
    "keepalive",
    "close_code",
    "close_empty",
    "server_close",
    "terminate",
];

fn node_ready() -> bool {
    js::ready(&[js::node_packages])
}

// ----- its client, our servers -----

/// Runs `ws_client.js` against `port`; each scenario's observations by name.
fn ws_client(port: u16, deflate: bool, scenarios: &[&str]) -> HashMap<String, Value> {
    let url = format!("ws://127.0.0.1:{port}/");
    let mut args = vec![url.as_str()];
    if !deflate {
        args.push("--no-deflate");
    }
    args.extend_from_slice(scenarios);
    let out = node("ws_client.js", &args);
    assert!(out.status.success(), "ws_client.js: {}", describe(&out));
    let results: HashMap<String, Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("result "))
        .map(|l| {
            let (name, json) = l.split_once(' ').unwrap();
            (name.to_string(), serde_json::from_str(json).unwrap())
        })
        .collect();
    assert_eq!(results.len(), scenarios.len(), "{}", describe(&out));
    results
}

/// What the ws client must have seen in each scenario.
fn check_ws_client(results: &HashMap<String, Value>, deflate: bool) {
    for (name, r) in results {
        assert_eq!(r["protocol"], "chat.v2", "{name}: {r}");
        let extensions = r["extensions"].as_str().unwrap();
        assert_eq!(
            extensions.starts_with("permessage-deflate"),
            deflate,
            "{name}: {r}"
        );
        let close = |code: u16, reason: &str| json!({ "code": code, "reason": reason });
        // Our servers answer a close frame with its code and reason.
        let expected_close = match name.as_str() {
            "close_code" => close(4000, "bye"),
            "close_empty" => close(1005, ""),
            "server_close" => close(4001, "server says bye"),
            "terminate" => close(1006, ""),
            "keepalive" => close(4003, "idle done"),
            _ => close(1000, "done"),
        };
        assert_eq!(r["close"], expected_close, "{name}: {r}");
        match name.as_str() {
            "text" => assert_eq!(r["echo"], json!({"text": GREETING, "isBinary": false})),
            "binary" => assert_eq!(r["echo"], json!({"isBinary": true, "same": true})),
            "large" => {
                assert_eq!(r["binary"], json!({"length": 4 << 20, "same": true}), "{r}");
                assert_eq!(r["text"]["same"], true, "{r}");
            }
            "fragmented" => {
                assert_eq!(
                    r["text"],
                    json!({"text": GREETING, "isBinary": false}),
                    "{r}"
                );
                assert_eq!(r["binary"], json!({"isBinary": true, "same": true}), "{r}");
            }
            "ping" => assert_eq!(r["pong"], "are you there?", "{r}"),
            "keepalive" => {
                assert!(r["pingsFromServer"].as_u64().unwrap() >= 1, "{r}");
                assert_eq!(r["echo"], GREETING, "{r}");
            }
            _ => {}
        }
    }
}

fn rust_echo_server() -> (Process, u16) {
    let example = programs::rust_example("echo_server");
    js::rust_echo_server(&example, &["--ping-interval-ms", &PING_MS.to_string()])
}

#[test]
fn ws_client_against_the_rust_echo_server() {
    if !node_ready() {
        return;
    }
    let (mut server, port) = rust_echo_server();
    let results = ws_client(port, true, &ALL_SCENARIOS);
    check_ws_client(&results, true);

    // The server's side of each close path.
    let line = |server: &mut Process, needle: &str| {
        server.wait_for(
            |l| l.contains(" closed: ") && l.contains(needle),
            PEER_TIMEOUT,
        )
    };
    line(&mut server, "clean=true code=4000 reason=\"bye\"");
    line(&mut server, "clean=true code=1005 reason=\"\"");
    line(
        &mut server,
        "clean=true code=4001 reason=\"server says bye\"",
    );
    line(&mut server, "clean=false code=1006");
    let keepalive = line(&mut server, "clean=true code=4003 reason=\"idle done\"");
    assert!(
        !keepalive.contains("pongs=0"),
        "ws did not answer the keepalive pings: {keepalive}"
    );
    let done = server
        .lines()
        .into_iter()
        .filter(|l| l.contains("clean=true code=1000 reason=\"done\""))
        .count();
    assert_eq!(done, 5, "{}", server.lines().join("\n"));
}

/// The same echo server on tokio (`wsmachine-tokio`'s `tokio_echo_server`).
#[test]
fn ws_client_against_the_tokio_echo_server() {
    if !node_ready() {
        return;
    }
    let example = programs::tokio_example("tokio_echo_server");
    let (mut server, port) =
        js::rust_echo_server(&example, &["--ping-interval-ms", &PING_MS.to_string()]);
    let results = ws_client(port, true, &ALL_SCENARIOS);
    check_ws_client(&results, true);
    for code in [4000, 1005, 4001, 1006, 4003, 1000] {
        let needle = format!("code={code} ");
        server.wait_for(
            |l| l.contains(" closed: ") && l.contains(&needle),
            PEER_TIMEOUT,
        );
    }
}

#[test]
fn ws_client_without_permessage_deflate_against_the_rust_echo_server() {
    if !node_ready() {
        return;
    }
    let (_server, port) = rust_echo_server();
    let results = ws_client(port, false, &["text", "large", "fragmented", "close_code"]);
    check_ws_client(&results, false);
}

#[test]
fn ws_client_against_the_c_echo_server() {
    if !node_ready() {
        return;
    }
    let program = programs::c_programs(false).join("echo_server");
    let (mut server, port) = js::c_echo_server(&program, PING_MS);
    let results = ws_client(port, true, &ALL_SCENARIOS);
    check_ws_client(&results, true);
    let results = ws_client(port, false, &["text", "large", "fragmented"]);
    check_ws_client(&results, false);
    js::terminate(&mut server);
    let exit = server.wait_for(|l| l.contains("echo server: served"), PEER_TIMEOUT);
    assert!(
        exit.contains("served 13 connections") && !exit.contains(" 0 pongs"),
        "{exit}"
    );
}

// ----- our client, its server -----

/// `ws_server.js` on an ephemeral port; permessage-deflate accepted if `deflate`.
fn ws_server(deflate: bool) -> (Process, u16) {
    let mut cmd = Command::new("node");
    cmd.current_dir(js::js_dir()).arg("ws_server.js");
    if deflate {
        cmd.arg("--deflate");
    }
    let (process, line) = Process::start(cmd, "listening on 127.0.0.1:");
    let port = support::process::listening_port(&line)
        .unwrap_or_else(|| panic!("unexpected readiness line {line:?}"));
    (process, port)
}

/// The ws server's `event` line for `path` and `kind`.
fn server_event(server: &mut Process, path: &str, kind: &str) -> Value {
    let path_json = json!(path).to_string();
    let needle = format!("{{\"path\":{path_json},\"kind\":\"{kind}\"");
    let line = server.wait_for(|l| l.contains(&needle), PEER_TIMEOUT);
    serde_json::from_str(line.strip_prefix("event ").unwrap()).unwrap()
}

/// Connects our client to `path` (offering chat.v1 and chat.v2, and permessage-deflate if
/// `deflate`), calls `act` on every event until the connection ends, and returns the events.
/// Runs on its own thread, bounded by [`PEER_TIMEOUT`].
fn client<F>(port: u16, path: &str, deflate: bool, act: F) -> Vec<Event>
where
    F: FnMut(&mut Connection, &Event) + Send + 'static,
{
    client_with(port, path, deflate, Options::new(), act)
}

/// [`client`] with other options (the limits are set here).
fn client_with<F>(port: u16, path: &str, deflate: bool, options: Options, mut act: F) -> Vec<Event>
where
    F: FnMut(&mut Connection, &Event) + Send + 'static,
{
    let path = path.to_string();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let options = options
            .max_message_size(echo::MAX_MESSAGE)
            .max_frame_size(echo::MAX_MESSAGE);
        let config = ClientConfig::new(format!("127.0.0.1:{port}"), path)
            .subprotocol("chat.v1")
            .subprotocol("chat.v2")
            .options(options);
        let config = if deflate {
            config.deflate(wsmachine::DeflateConfig::new())
        } else {
            config
        };
        let mut driver = Driver::new(stream, Connection::client(config).unwrap()).unwrap();
        let mut events = Vec::new();
        while let Some(event) = driver.next_event().unwrap() {
            act(driver.conn(), &event);
            events.push(event);
        }
        driver.finish(echo::LINGER);
        let _ = tx.send(events);
    });
    rx.recv_timeout(PEER_TIMEOUT)
        .expect("the client panicked or timed out")
}

/// The text and binary messages among `events`, in order.
fn messages(events: &[Event]) -> Vec<Result<String, Vec<u8>>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Text(t) => Some(Ok(t.as_str().to_string())),
            Event::Binary(b) => Some(Err(b.to_vec())),
            _ => None,
        })
        .collect()
}

fn closed(events: &[Event]) -> (bool, u16, String) {
    match events.last() {
        Some(Event::Closed {
            clean,
            code,
            reason,
        }) => (*clean, code.0, reason.clone()),
        other => panic!("the last event is not Closed: {other:?}"),
    }
}

fn open_of(events: &[Event]) -> (Option<String>, String) {
    match events.first() {
        Some(Event::Open {
            subprotocol,
            extensions,
        }) => (subprotocol.clone(), extensions.clone()),
        other => panic!("the first event is not Open: {other:?}"),
    }
}

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Text, binary, fragmented and large messages echoed by the ws server, then our close.
fn echo_against_ws_server(deflate: bool) {
    let (mut server, port) = ws_server(deflate);
    let small = pattern(1000, 1);
    let large = pattern(4 << 20, 2);
    let greeting = GREETING.as_bytes();
    let (small_c, large_c) = (small.clone(), large.clone());
    let mut received = 0;
    let events = client(port, "/echo", deflate, move |conn, event| match event {
        Event::Open { .. } => {
            conn.send_text(GREETING).unwrap();
            conn.send_binary(&small_c).unwrap();
            // A text message in three frames, cut inside a two-byte code point.
            conn.send_fragment(MessageKind::Text, &greeting[..3], false)
                .unwrap();
            conn.send_fragment(MessageKind::Text, &greeting[3..9], false)
                .unwrap();
            conn.send_fragment(MessageKind::Text, &greeting[9..], true)
                .unwrap();
            conn.send_fragment(MessageKind::Binary, &small_c[..10], false)
                .unwrap();
            conn.send_fragment(MessageKind::Binary, &small_c[10..], true)
                .unwrap();
            conn.send_binary(&large_c).unwrap();
        }
        Event::Text(_) | Event::Binary(_) => {
            received += 1;
            if received == 5 {
                conn.close(CloseCode(4000), "bye").unwrap();
            }
        }
        _ => {}
    });
    let (subprotocol, extensions) = open_of(&events);
    assert_eq!(subprotocol.as_deref(), Some("chat.v2"));
    assert_eq!(
        extensions.starts_with("permessage-deflate"),
        deflate,
        "{extensions}"
    );
    let got = messages(&events);
    assert_eq!(got.len(), 5);
    assert_eq!(got[0], Ok(GREETING.to_string()));
    assert_eq!(got[1], Err(small.clone()));
    assert_eq!(got[2], Ok(GREETING.to_string()));
    assert_eq!(got[3], Err(small));
    assert!(got[4] == Err(large), "the 4 MiB message came back changed");
    // ws answers our close frame with its code and reason (as our servers do).
    assert_eq!(closed(&events), (true, 4000, "bye".to_string()));
    let close = server_event(&mut server, "/echo", "close");
    assert_eq!(close["code"], 4000, "{close}");
    assert_eq!(close["reason"], "bye", "{close}");
}

#[test]
fn rust_client_against_ws_server_with_permessage_deflate() {
    if !node_ready() {
        return;
    }
    echo_against_ws_server(true);
}

#[test]
fn rust_client_against_ws_server_without_permessage_deflate() {
    if !node_ready() {
        return;
    }
    echo_against_ws_server(false);
}

#[test]
fn rust_client_reassembles_ws_servers_fragmented_messages() {
    if !node_ready() {
        return;
    }
    let (mut server, port) = ws_server(true);
    let mut received = 0;
    let events = client(port, "/fragmented", true, move |conn, event| {
        if matches!(event, Event::Text(_) | Event::Binary(_)) {
            received += 1;
            if received == 2 {
                conn.close(CloseCode::NORMAL, "").unwrap();
            }
        }
    });
    assert_eq!(
        messages(&events),
        vec![Ok("Привет, клиент!".to_string()), Err(vec![7; 3000])]
    );
    assert_eq!(closed(&events), (true, 1000, String::new()));
    assert_eq!(
        server_event(&mut server, "/fragmented", "close")["code"],
        1000
    );
}

#[test]
fn rust_client_and_ws_server_ping_each_other() {
    if !node_ready() {
        return;
    }
    let (mut server, port) = ws_server(false);
    let events = client(port, "/ping", false, |conn, event| match event {
        Event::Open { .. } => conn.send_ping(b"hello from rust").unwrap(),
        // ws sends this once our automatic pong reached it.
        Event::Text(t) if t.as_str() == "pong received: are you there?" => {
            conn.close(CloseCode::NORMAL, "").unwrap()
        }
        _ => {}
    });
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Ping(p) if &p[..] == b"are you there?")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Pong(p) if &p[..] == b"hello from rust")),
        "{events:?}"
    );
    assert_eq!(
        messages(&events),
        vec![Ok("pong received: are you there?".to_string())]
    );
    assert_eq!(closed(&events), (true, 1000, String::new()));
    let pong = server_event(&mut server, "/ping", "pong");
    assert_eq!(pong["data"], "are you there?");
    let ping = server_event(&mut server, "/ping", "ping");
    assert_eq!(ping["data"], "hello from rust");
}

#[test]
fn ws_server_close_paths_seen_by_rust_client() {
    if !node_ready() {
        return;
    }
    let (mut server, port) = ws_server(true);
    // The server closes with a code and reason: both sides see them, cleanly.
    let events = client(port, "/close/4002/going%20away", true, |_, _| {});
    assert!(
        events.iter().any(|e| matches!(e,
            Event::Close { code: Some(CloseCode(4002)), reason } if reason == "going away")),
        "{events:?}"
    );
    assert_eq!(closed(&events), (true, 4002, "going away".to_string()));
    let close = server_event(&mut server, "/close/4002/going away", "close");
    assert_eq!(close["code"], 4002, "{close}");

    // A close frame without a body: reported as 1005.
    let events = client(port, "/close-empty", true, |_, _| {});
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Close { code: None, .. })),
        "{events:?}"
    );
    assert_eq!(closed(&events), (true, 1005, String::new()));
    assert_eq!(
        server_event(&mut server, "/close-empty", "close")["code"],
        1005
    );

    // TCP ends without a closing handshake: abnormal, 1006.
    let events = client(port, "/terminate", true, |_, _| {});
    assert_eq!(closed(&events), (false, 1006, String::new()));

    // Our close without a reason, and with an empty frame.
    let events = client(port, "/echo", true, |conn, event| {
        if matches!(event, Event::Open { .. }) {
            conn.close(CloseCode::NORMAL, "").unwrap();
        }
    });
    assert_eq!(closed(&events), (true, 1000, String::new()));
    let events = client(port, "/echo?empty", true, |conn, event| {
        if matches!(event, Event::Open { .. }) {
            conn.close(CloseCode::NO_STATUS, "").unwrap();
        }
    });
    assert_eq!(closed(&events), (true, 1005, String::new()));
    let close = server_event(&mut server, "/echo?empty", "close");
    assert_eq!(close["code"], 1005, "{close}");
}

/// Our keepalive pings reach an idle ws server, which answers each with a pong.
#[test]
fn rust_clients_keepalive_pings_are_answered_by_ws_server() {
    if !node_ready() {
        return;
    }
    let (mut server, port) = ws_server(false);
    let interval = std::time::Duration::from_millis(200);
    let options = Options::new().keepalive(interval, std::time::Duration::from_secs(10));
    let mut pongs = 0;
    let events = client_with(port, "/echo?idle", false, options, move |conn, event| {
        if matches!(event, Event::Pong(_)) {
            pongs += 1;
            if pongs == 2 {
                conn.close(CloseCode::NORMAL, "").unwrap();
            }
        }
    });
    let pongs = events
        .iter()
        .filter(|e| matches!(e, Event::Pong(_)))
        .count();
    assert_eq!(pongs, 2, "{events:?}");
    assert_eq!(closed(&events), (true, 1000, String::new()));
    server_event(&mut server, "/echo?idle", "ping");
    assert_eq!(
        server_event(&mut server, "/echo?idle", "close")["code"],
        1000
    );
}
