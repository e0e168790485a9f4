//! Memory follows the bytes received, never the bytes a peer announces (issue 10). One test
//! in this binary, so the global allocation counter sees nothing else.

mod common;

use common::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use wsmachine::{Connection, Options, ServerConfig};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: delegates to the system allocator and only counts the bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::SeqCst);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn drain(c: &mut Connection) {
    while c.poll_event_ref().is_some() {}
    drop(c.take_output());
}

/// A masked binary frame header announcing `len` bytes (64-bit length form).
fn header(len: u64) -> Vec<u8> {
    let mut h = vec![0x82, 0x80 | 127];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[1, 2, 3, 4]);
    h
}

#[test]
fn memory_follows_bytes_received() {
    // 200 headers announcing 16 MiB each, on 200 connections.
    let config = || ServerConfig::new().options(Options::new().max_frame_size(16 << 20));
    let mut conns: Vec<Connection> = (0..200)
        .map(|_| {
            let mut c = Connection::server(config());
            c.receive(REQUEST);
            drain(&mut c);
            c
        })
        .collect();
    let before = LIVE.load(Ordering::SeqCst);
    for c in &mut conns {
        c.receive(&header(16 << 20));
        drain(c);
    }
    let per_conn = (LIVE.load(Ordering::SeqCst) - before) / 200;
    eprintln!("after a header announcing 16 MiB: {per_conn} bytes per connection");
    assert!(per_conn <= 128 << 10, "{per_conn} bytes per connection");

    // As the payload arrives, memory follows it (about one read ahead).
    let c = &mut conns[0];
    let start = LIVE.load(Ordering::SeqCst);
    for _ in 0..16 {
        c.receive(&[0; 64 << 10]);
        drain(c);
    }
    let grown = LIVE.load(Ordering::SeqCst) - start;
    eprintln!("after 1 MiB of it: {grown} bytes more");
    assert!(grown <= 3 << 20, "{grown}");
    drop(conns);

    // "No limit": a header announcing 2^62 bytes neither aborts nor reserves them.
    let mut c = Connection::server(
        ServerConfig::new().options(
            Options::new()
                .max_frame_size(usize::MAX)
                .max_message_size(usize::MAX),
        ),
    );
    c.receive(REQUEST);
    drain(&mut c);
    let start = LIVE.load(Ordering::SeqCst);
    c.receive(&header(1 << 62));
    drain(&mut c);
    c.receive(&[7; 1000]);
    drain(&mut c);
    assert_eq!(c.state(), wsmachine::State::Open);
    let grown = LIVE.load(Ordering::SeqCst) - start;
    assert!(grown <= 128 << 10, "{grown}");
}
