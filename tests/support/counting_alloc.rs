//! A global allocator that counts the bytes live on the heap, for the tests that measure what
//! a connection holds (`tests/idle_heap.rs`, `tests/bounded_memory.rs`,
//! `tests/fuzz_regressions.rs`). Declaring this module installs it; read [`live`].
//!
//! The count is per thread: bytes this thread allocated minus bytes it freed. The test
//! harness's own thread allocates while a test runs (more so on a loaded machine, where it
//! runs late), which a process-wide count would charge to the connection under test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // `const` and without a destructor: reading it never allocates, so the allocator may.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // During a thread's teardown the slot may be gone: nothing to count then.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

// SAFETY: delegates to the system allocator and only counts the bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The bytes this thread allocated and has not freed (since it started).
pub fn live() -> isize {
    LIVE.with(Cell::get)
}
