//! Feeding received bytes to a connection the way a transport that reads in place does:
//! into the room `receive_buffer` lends, committed, possibly in short reads.

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
