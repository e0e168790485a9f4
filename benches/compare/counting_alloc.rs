//! The bench binary's global allocator: the system allocator plus counters, switched on only
//! around the passes that count allocations so that timed passes pay one relaxed load.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Forwards to [`System`], counting calls and live bytes while [`Counting`] is active.
pub(crate) struct CountingAlloc;

static ON: AtomicBool = AtomicBool::new(false);
/// `alloc` and `realloc` calls: each is one trip to the allocator for fresh memory.
static ALLOCS: AtomicU64 = AtomicU64::new(0);
/// Bytes handed out minus bytes returned (wrapping: a free of memory allocated before the
/// counter started makes it go "negative").
static LIVE: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counters have no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            LIVE.fetch_add(layout.size() as u64, Relaxed);
        }
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            LIVE.fetch_add(layout.size() as u64, Relaxed);
        }
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Relaxed) {
            LIVE.fetch_sub(layout.size() as u64, Relaxed);
        }
        // SAFETY: forwarded as is; `ptr` came from this allocator, hence from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            LIVE.fetch_add(
                (new_size as u64).wrapping_sub(layout.size() as u64),
                Relaxed,
            );
        }
        // SAFETY: forwarded as is; `ptr` came from `System` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What the allocator saw between [`Counting::start`] and [`Counting::stop`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counted {
    /// Calls to `alloc`/`alloc_zeroed`/`realloc`.
    pub allocs: u64,
    /// Bytes still held (allocated minus freed) at `stop`.
    pub live_bytes: i64,
}

/// A counting window. Only one may be open at a time (the bench is single-threaded).
pub(crate) struct Counting(());

impl Counting {
    /// Resets the counters and starts counting.
    pub(crate) fn start() -> Self {
        ALLOCS.store(0, Relaxed);
        LIVE.store(0, Relaxed);
        ON.store(true, Relaxed);
        Counting(())
    }

    /// Stops counting and returns what was seen.
    pub(crate) fn stop(self) -> Counted {
        ON.store(false, Relaxed);
        Counted {
            allocs: ALLOCS.load(Relaxed),
            live_bytes: LIVE.load(Relaxed) as i64,
        }
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        ON.store(false, Relaxed);
    }
}
