//! Feeding received bytes to a connection the ways a transport does: copied (`receive`),
//! read into the room `receive_buffer` lends, or into the spare capacity of the one
//! `receive_room` lends, possibly in short reads.

use wsmachine::Connection;

/// Delivers `bytes` through `receive_buffer` + `commit_received`, asking for `min` bytes of
/// room each time; a read takes what fits and the rest waits for the next one.
pub fn receive_in_place(conn: &mut Connection, bytes: &[u8], min: usize) {
    let mut at = 0;
    loop {
        let room = conn.receive_buffer(min);
        assert!(
            room.len() >= min.max(1),
            "receive_buffer lent less than asked"
        );
        let n = room.len().min(bytes.len() - at);
        room[..n].copy_from_slice(&bytes[at..at + n]);
        conn.commit_received(n)
            .expect("committing what receive_buffer lent");
        at += n;
        if at == bytes.len() {
            return;
        }
    }
}

/// Delivers `bytes` through `receive_room` + `commit_room`, asking for `min` bytes of
/// capacity each time; a read fills what capacity there is and the rest waits. With
/// `would_block`, every read is preceded by one that got nothing (an empty room given back).
pub fn receive_into_room(conn: &mut Connection, bytes: &[u8], min: usize, would_block: bool) {
    let mut at = 0;
    loop {
        if would_block {
            let room = conn.receive_room(min);
            conn.commit_room(room);
        }
        let mut room = conn.receive_room(min);
        assert!(
            room.is_empty() && room.capacity() >= min.max(1),
            "receive_room lent less than asked"
        );
        let n = room.capacity().min(bytes.len() - at);
        room.extend_from_slice(&bytes[at..at + n]);
        conn.commit_room(room);
        at += n;
        if at == bytes.len() {
            return;
        }
    }
}

/// Delivers piece `i` of a split input by one of the three paths, in turn.
pub fn receive_piece(conn: &mut Connection, i: usize, piece: &[u8], min: usize) {
    match i % 4 {
        1 => receive_in_place(conn, piece, min),
        3 => receive_into_room(conn, piece, min, i % 8 == 7),
        _ => conn.receive(piece),
    }
}
