//! An idle connection holds no heap: after the handshake and after traffic, once events are
//! polled and output is taken, every buffer is released. (One test in this binary, so the
//! global allocation counter sees nothing else.)

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod counting_alloc;
    pub mod pair;
}

use support::counting_alloc::live;
use support::pair::*;
use wsmachine::frame::OpCode;
use wsmachine::{Connection, ServerConfig};

fn drain(c: &mut Connection) {
    while c.poll_event_ref().is_some() {}
    drop(c.take_output());
}

#[test]
fn idle_server_holds_no_heap() {
    let mut frames = Vec::new();
    frames.extend(cframe(true, OpCode::Text, "Привет".as_bytes()));
    frames.extend(cframe(false, OpCode::Binary, &[1; 3000]));
    frames.extend(cframe(true, OpCode::Ping, b"p"));
    frames.extend(cframe(true, OpCode::Continuation, &[2; 3000]));
    let baseline = live();

    let mut server = Connection::server(ServerConfig::new());
    server.receive(REQUEST);
    drain(&mut server);
    assert_eq!(live() - baseline, 0, "after the handshake");

    let mut seen = Vec::new();
    for piece in [&frames[..5000], &frames[5000..]] {
        server.receive(piece);
        while let Some(e) = server.poll_event_ref() {
            seen.push(e.to_owned());
        }
    }
    assert!(matches!(
        seen[..],
        [
            wsmachine::Event::Text(_),
            wsmachine::Event::Ping(_),
            wsmachine::Event::Binary(ref b)
        ] if b.len() == 6000
    ));
    drop(seen);
    drop(server.take_output());
    server.send_binary(&[0; 100]).unwrap();
    drop(server.take_output());
    assert_eq!(live() - baseline, 0, "after traffic");
    // A read into the lent room that would block: the room goes back empty, freed.
    let room = server.receive_room(64 << 10);
    server.commit_room(room);
    assert_eq!(live() - baseline, 0, "after an empty read into a room");
    let mut room = server.receive_room(64 << 10);
    room.extend_from_slice(&cframe(true, OpCode::Binary, &[3; 100]));
    server.commit_room(room);
    drain(&mut server);
    assert_eq!(live() - baseline, 0, "after a message read into a room");
    eprintln!(
        "size_of::<Connection>() = {}",
        std::mem::size_of::<Connection>()
    );
}
