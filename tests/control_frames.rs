//! Pings and pongs in memory, for both roles where both apply: keepalive and its pong
//! timeout, automatic pongs and turning them off, unsolicited pongs, and the bound on pongs
//! owed to a peer that pings without reading.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod pair;
}

use std::time::Duration;
use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{
    ClientConfig, Connection, Event, Failure, Instant, Options, Role, ServerConfig, State,
};

/// A pair where only the connection of `role` has `options`.
fn pair_with(role: Role, options: Options) -> Pair {
    match role {
        Role::Client => Pair::new(
            ClientConfig::new("h", "/").options(options),
            ServerConfig::new(),
        ),
        Role::Server => Pair::new(
            ClientConfig::new("h", "/"),
            ServerConfig::new().options(options),
        ),
    }
}

#[test]
fn keepalive_pings_idle_peer_and_fails_without_pong() {
    for role in ROLES {
        let opts = Options::new().keepalive(Duration::from_secs(10), Duration::from_secs(5));
        let mut p = pair_with(role, opts);
        p.drive();
        p.advance(Duration::ZERO); // anchor the timers
        p.advance(Duration::from_secs(10));
        // The peer answered the keepalive ping automatically.
        assert!(
            p.events_of(peer_of(role))
                .iter()
                .any(|e| matches!(e, Event::Ping(_))),
            "{role:?}"
        );
        assert!(p
            .events_of(role)
            .iter()
            .any(|e| matches!(e, Event::Pong(_))));
        assert_eq!(p.side(role).state(), State::Open);
        // Now the peer stops answering: its output is lost.
        let mut now = p.now;
        let pinger = p.side(role);
        for _ in 0..10 {
            match pinger.poll_timeout() {
                Some(t) => {
                    now = now.max(t);
                    pinger.handle_timeout(now);
                    let _ = pinger.take_output();
                }
                None => break,
            }
        }
        let ev = events(pinger);
        assert!(
            ev.contains(&Event::Error(Failure::PongTimeout)),
            "{role:?}: {ev:?}"
        );
        assert_eq!(pinger.state(), State::Closed, "{role:?}");
    }
}

#[test]
fn keepalive_does_not_ping_a_busy_peer() {
    for role in ROLES {
        let opts = Options::new().keepalive(Duration::from_secs(10), Duration::from_secs(5));
        let mut p = pair_with(role, opts);
        p.drive();
        p.advance(Duration::ZERO);
        for _ in 0..5 {
            p.side(peer_of(role)).send_text("busy").unwrap();
            p.drive();
            p.advance(Duration::from_secs(10));
        }
        assert!(
            !p.events_of(peer_of(role))
                .iter()
                .any(|e| matches!(e, Event::Ping(_))),
            "{role:?}"
        );
    }
}

#[test]
fn a_peer_trickling_into_a_frame_fails_keepalive() {
    // Only a complete frame (or a pong) proves the peer alive, not a byte (issue 10 item 5).
    let interval = Duration::from_secs(10);
    let timeout = Duration::from_secs(10);
    let mut s = Connection::server(
        ServerConfig::new().options(Options::new().keepalive(interval, timeout)),
    );
    s.receive(REQUEST);
    s.handle_timeout(Instant::ZERO);
    drain_all(&mut s);
    // A header announcing 16 MiB, then one byte every 5 s.
    let mut h = vec![0x82, 0x80 | 127];
    h.extend_from_slice(&(16u64 << 20).to_be_bytes());
    h.extend_from_slice(&[1, 2, 3, 4]);
    s.receive(&h);
    drain_all(&mut s);
    let mut closed_at = None;
    for t in 1..=60u64 {
        let now = Instant::from_millis(t * 5_000);
        s.handle_timeout(now);
        s.receive(&[0]);
        let evs = drain_all(&mut s);
        if evs.iter().any(|e| matches!(e, Event::Closed { .. })) {
            assert!(evs
                .iter()
                .any(|e| matches!(e, Event::Error(Failure::PongTimeout))));
            closed_at = Some(t * 5);
            break;
        }
    }
    let closed_at = closed_at.expect("still open after 300 s");
    assert!(closed_at <= 20, "closed at {closed_at} s");

    // Complete frames do keep it alive.
    let mut s = Connection::server(
        ServerConfig::new().options(Options::new().keepalive(interval, timeout)),
    );
    s.handle_timeout(Instant::ZERO);
    s.receive(REQUEST);
    drain_all(&mut s);
    for t in 1..=60u64 {
        s.handle_timeout(Instant::from_millis(t * 5_000));
        s.receive(&cframe(true, OpCode::Binary, b"x"));
        drain_all(&mut s);
    }
    assert_eq!(s.state(), State::Open);
}

#[test]
fn auto_pong_can_be_turned_off() {
    for role in ROLES {
        let mut s = open_as(role, Options::new().auto_pong(false));
        s.receive(&peer_frame(role, true, OpCode::Ping, b"x"));
        assert_eq!(events(&mut s), [Event::Ping(b"x".to_vec().into())]);
        assert!(s.pending_output().is_empty(), "{role:?}");
        s.send_pong(b"x").unwrap();
        assert_eq!(
            parse_frames(&s.take_output()),
            [(OpCode::Pong, true, b"x".to_vec())]
        );
    }
}

#[test]
fn unsolicited_pong_is_reported_and_ignored() {
    for role in ROLES {
        let mut s = open_as(role, Options::new());
        s.receive(&peer_frame(role, true, OpCode::Pong, b"u"));
        assert_eq!(events(&mut s), [Event::Pong(b"u".to_vec().into())]);
        assert_eq!(s.state(), State::Open);
    }
}

#[test]
fn a_million_pings_without_reading_keep_the_output_bounded() {
    // Few pings, little output waiting: one pong each (the Autobahn TestSuite's 2.10 sends
    // ten at once and wants ten answers).
    let mut s = open_server(ServerConfig::new());
    let ten: Vec<u8> = (0..10u8)
        .flat_map(|i| cframe(true, OpCode::Ping, &[i]))
        .collect();
    s.receive(&ten);
    while s.poll_event_ref().is_some() {}
    let pongs: Vec<_> = (0..10u8).map(|i| (OpCode::Pong, true, vec![i])).collect();
    assert_eq!(parse_frames(s.pending_output()), pongs);

    // A million, output never drained: past 4 KiB waiting, only the latest ping is
    // answered (RFC 6455 §5.5.3, issue 10 item 4).
    let mut s = open_server(ServerConfig::new());
    let mut pings = Vec::new();
    for i in 0..1000u32 {
        pings.extend(cframe(true, OpCode::Ping, &i.to_be_bytes()));
    }
    for _ in 0..1000 {
        s.receive(&pings);
        while s.poll_event_ref().is_some() {}
    }
    assert!(
        s.buffered_amount() <= (4 << 10) + 6,
        "{}",
        s.buffered_amount()
    );
    let frames = parse_frames(s.pending_output());
    assert!(frames.iter().all(|(op, _, _)| *op == OpCode::Pong));
    assert_eq!(frames.last().unwrap().2, 999u32.to_be_bytes().to_vec());

    // Backlogged: a pong already partly written stays, the next is queued after it.
    let mut s = open_server(ServerConfig::new());
    s.receive(&cframe(true, OpCode::Ping, b"a"));
    while s.poll_event_ref().is_some() {}
    s.send_binary(&[0; 5000]).unwrap();
    s.consume_output(2);
    s.receive(&cframe(true, OpCode::Ping, b"b"));
    while s.poll_event_ref().is_some() {}
    assert!(s.pending_output().starts_with(b"a"));
    assert!(s.pending_output().ends_with(b"\x8a\x01b"));
    // Backlogged: frames queued after the waiting pong keep their order when it is replaced.
    let mut s = open_server(ServerConfig::new());
    s.send_binary(&[0; 5000]).unwrap();
    s.receive(&cframe(true, OpCode::Ping, b"c"));
    while s.poll_event_ref().is_some() {}
    s.send_text("t").unwrap();
    s.receive(&cframe(true, OpCode::Ping, b"d"));
    while s.poll_event_ref().is_some() {}
    let frames = parse_frames(s.pending_output());
    assert_eq!(
        frames[1..],
        [
            (OpCode::Text, true, b"t".to_vec()),
            (OpCode::Pong, true, b"d".to_vec())
        ]
    );
}
