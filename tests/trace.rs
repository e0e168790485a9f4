//! The frame trace (`Options::trace_frames`): one record per frame each way, with the
//! header fields and an unmasked preview, bounded, and nothing at all when off.

use wsmachine::frame::OpCode;
use wsmachine::{
    ClientConfig, CloseCode, Connection, Direction, Event, FrameInfo, MessageKind, Options,
    ServerConfig,
};

/// Moves bytes both ways until both sides are quiet, polling every event.
fn pump(a: &mut Connection, b: &mut Connection) -> (Vec<Event>, Vec<Event>) {
    let (mut a_events, mut b_events) = (Vec::new(), Vec::new());
    loop {
        a_events.extend(std::iter::from_fn(|| a.poll_event()));
        b_events.extend(std::iter::from_fn(|| b.poll_event()));
        let (ab, ba) = (a.take_output(), b.take_output());
        if ab.is_empty() && ba.is_empty() {
            return (a_events, b_events);
        }
        b.receive(&ab);
        a.receive(&ba);
    }
}

fn pair(trace: bool) -> (Connection, Connection) {
    let options = Options::new().trace_frames(trace);
    let mut client =
        Connection::client(ClientConfig::new("example.com", "/").options(options.clone())).unwrap();
    let mut server = Connection::server(ServerConfig::new().options(options));
    pump(&mut client, &mut server);
    (client, server)
}

/// The records as (direction, opcode, fin, rsv, masked, length, preview).
type Row = (Direction, OpCode, bool, u8, bool, u64, Vec<u8>);

fn drain(conn: &mut Connection) -> Vec<Row> {
    std::iter::from_fn(|| conn.poll_frame())
        .map(|f: FrameInfo| {
            (
                f.direction,
                f.opcode,
                f.fin,
                f.rsv,
                f.masked,
                f.payload_len,
                f.preview().to_vec(),
            )
        })
        .collect()
}

use Direction::{Received as In, Sent as Out};

#[test]
fn every_frame_is_recorded_both_ways_with_its_header_and_an_unmasked_preview() {
    let (mut client, mut server) = pair(true);
    assert_eq!(drain(&mut client), []); // the handshake is no frame
    assert_eq!(drain(&mut server), []);

    client.send_text("hello").unwrap();
    let long = vec![0xAB; 300]; // the general path, not the small-message one
    client.send_binary(&long).unwrap();
    client
        .send_fragment(MessageKind::Text, b"frag", false)
        .unwrap();
    client.send_ping(b"p1").unwrap();
    client
        .send_fragment(MessageKind::Text, b"ment", true)
        .unwrap();
    let (_, events) = pump(&mut client, &mut server);
    assert_eq!(events.len(), 4, "{events:?}"); // text, binary, ping, text
    let preview = vec![0xAB; 32];
    assert_eq!(
        drain(&mut client),
        [
            (Out, OpCode::Text, true, 0, true, 5, b"hello".to_vec()),
            (Out, OpCode::Binary, true, 0, true, 300, preview.clone()),
            (Out, OpCode::Text, false, 0, true, 4, b"frag".to_vec()),
            (Out, OpCode::Ping, true, 0, true, 2, b"p1".to_vec()),
            (
                Out,
                OpCode::Continuation,
                true,
                0,
                true,
                4,
                b"ment".to_vec()
            ),
            (In, OpCode::Pong, true, 0, false, 2, b"p1".to_vec()),
        ]
    );
    assert_eq!(
        drain(&mut server),
        [
            (In, OpCode::Text, true, 0, true, 5, b"hello".to_vec()),
            (In, OpCode::Binary, true, 0, true, 300, preview),
            (In, OpCode::Text, false, 0, true, 4, b"frag".to_vec()),
            (In, OpCode::Ping, true, 0, true, 2, b"p1".to_vec()),
            (Out, OpCode::Pong, true, 0, false, 2, b"p1".to_vec()),
            (In, OpCode::Continuation, true, 0, true, 4, b"ment".to_vec()),
        ]
    );

    server.close(CloseCode::from(4000), "bye").unwrap();
    pump(&mut client, &mut server);
    let close = [&4000u16.to_be_bytes()[..], b"bye"].concat();
    // The automatic answer echoes the code (whether it echoes the reason too is the close
    // policy's business, not the trace's): compare what the trace says with what was sent.
    let (server_rows, client_rows) = (drain(&mut server), drain(&mut client));
    assert_eq!(server_rows.len(), 2);
    assert_eq!(client_rows.len(), 2);
    assert_eq!(
        server_rows[0],
        (Out, OpCode::Close, true, 0, false, 5, close.clone())
    );
    assert_eq!(
        client_rows[0],
        (In, OpCode::Close, true, 0, false, 5, close)
    );
    let answer = &client_rows[1];
    assert_eq!((answer.0, answer.1, answer.4), (Out, OpCode::Close, true));
    assert_eq!(answer.6[..2], 4000u16.to_be_bytes());
    assert_eq!(answer.5, answer.6.len() as u64);
    assert_eq!(
        server_rows[1],
        (
            In,
            answer.1,
            answer.2,
            answer.3,
            true,
            answer.5,
            answer.6.clone()
        )
    );
    assert_eq!((client.frames_dropped(), server.frames_dropped()), (0, 0));
}

#[test]
fn a_frame_whose_payload_arrives_in_pieces_is_recorded_once_unmasked() {
    let (mut client, mut server) = pair(true);
    let text = "x".repeat(40);
    client.send_text(&text).unwrap();
    let bytes = client.take_output();
    for b in bytes.iter() {
        server.receive(&[*b]);
        while server.poll_event().is_some() {}
    }
    assert_eq!(
        drain(&mut server),
        [(In, OpCode::Text, true, 0, true, 40, vec![b'x'; 32])]
    );
}

#[test]
fn a_compressed_frame_is_recorded_with_rsv1_and_its_compressed_length() {
    let options = Options::new().trace_frames(true);
    let mut client = Connection::client(
        ClientConfig::new("example.com", "/")
            .options(options.clone())
            .deflate(Default::default()),
    )
    .unwrap();
    let mut server = Connection::server(
        ServerConfig::new()
            .options(options)
            .deflate(Default::default()),
    );
    pump(&mut client, &mut server);
    let text = "compress me ".repeat(20);
    client.send_text(&text).unwrap();
    let (_, events) = pump(&mut client, &mut server);
    assert!(matches!(&events[..], [Event::Text(t)] if **t == *text));
    let sent = drain(&mut client);
    let received = drain(&mut server);
    assert_eq!(sent.len(), 1);
    let (dir, op, fin, rsv, masked, len, _) = sent[0].clone();
    assert_eq!(
        (dir, op, fin, rsv, masked),
        (Out, OpCode::Text, true, 0b100, true)
    );
    assert!(len < text.len() as u64, "{len}");
    assert_eq!(received[0].5, len);
    assert_eq!(received[0].6, sent[0].6); // the same compressed bytes, unmasked
}

#[test]
fn the_trace_is_bounded_dropping_the_oldest() {
    let (mut client, mut server) = pair(true);
    let cap = Connection::TRACE_CAPACITY;
    for i in 0..cap + 10 {
        client.send_text(&i.to_string()).unwrap();
    }
    assert_eq!(client.frames_dropped(), 10);
    let rows = drain(&mut client);
    assert_eq!(rows.len(), cap);
    assert_eq!(rows[0].6, b"10".to_vec());
    drop(server.take_output());
}

#[test]
fn off_by_default_nothing_is_recorded() {
    let (mut client, mut server) = pair(false);
    client.send_text("hello").unwrap();
    client.send_ping(b"").unwrap();
    pump(&mut client, &mut server);
    assert_eq!(client.poll_frame(), None);
    assert_eq!(server.poll_frame(), None);
    assert_eq!(client.frames_dropped(), 0);
}
