//! The process-wide inflate budget: one byte count shared by every connection given a clone
//! of it, so that N connections inflating compressed messages at once hold at most the
//! budget between them, not N times `max_message_size`.
//!
//! This module owns the shared counter ([`InflateBudget`]) and one connection's share of it
//! ([`Share`]); `deflate::Codec` takes from its share as it inflates and gives the bytes back
//! once the message (or a streamed fragment) is complete, fails, or the codec is dropped.

use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};

/// A byte budget for inflating compressed messages, shared by the connections whose
/// [`DeflateConfig`](crate::DeflateConfig) got a clone of it.
///
/// A connection takes bytes from it as its inflater writes them (16 KiB at a time) and
/// gives them back when the message is complete and handed over (or each fragment, when
/// fragments are streamed), when it fails, and when it is dropped. A connection that finds
/// the budget spent fails with [`ProtocolError::InflateBudgetExhausted`], closing with 1013
/// (try again later): the process is busy, the peer did nothing wrong.
///
/// Size it at least `max_message_size` plus 16 KiB, or a single message of the limit can
/// never inflate; a server that wants K large messages in flight at once gives it K times
/// that. Cloning shares the budget; the bytes are counted, not reserved, so an unused
/// budget costs nothing.
///
/// ```
/// use wsmachine::{DeflateConfig, InflateBudget, ServerConfig};
/// let budget = InflateBudget::new(128 << 20);
/// let config = ServerConfig::new().deflate(DeflateConfig::new().inflate_budget(budget.clone()));
/// # let _ = config;
/// assert_eq!(budget.available(), 128 << 20);
/// ```
#[derive(Clone)]
pub struct InflateBudget {
    remaining: Arc<AtomicUsize>,
    total: usize,
}

impl InflateBudget {
    /// A budget of `bytes` inflated bytes in flight at once, across its clones.
    pub fn new(bytes: usize) -> Self {
        Self {
            remaining: Arc::new(AtomicUsize::new(bytes)),
            total: bytes,
        }
    }

    /// The size it was made with.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The bytes not taken at this moment.
    pub fn available(&self) -> usize {
        self.remaining.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes if that many are left.
    fn take(&self, n: usize) -> bool {
        self.remaining
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }

    fn give_back(&self, n: usize) {
        if n > 0 {
            self.remaining.fetch_add(n, Ordering::AcqRel);
        }
    }
}

impl fmt::Debug for InflateBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InflateBudget")
            .field("total", &self.total)
            .field("available", &self.available())
            .finish()
    }
}

/// Clones compare equal: they are the same budget.
impl PartialEq for InflateBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.remaining, &other.remaining)
    }
}

impl Eq for InflateBudget {}

/// One connection's bytes taken from a budget; given back when dropped.
#[derive(Debug)]
pub(crate) struct Share {
    budget: InflateBudget,
    held: usize,
}

impl Share {
    pub(crate) fn new(budget: InflateBudget) -> Self {
        Self { budget, held: 0 }
    }

    /// Takes `n` more bytes, or fails with nothing taken.
    pub(crate) fn take(&mut self, n: usize) -> bool {
        let ok = self.budget.take(n);
        if ok {
            self.held += n;
        }
        ok
    }

    /// Gives back `n` of the bytes held (the unused part of the last `take`).
    pub(crate) fn give_back(&mut self, n: usize) {
        let n = n.min(self.held);
        self.held -= n;
        self.budget.give_back(n);
    }

    /// Gives back every byte held.
    pub(crate) fn release(&mut self) {
        self.give_back(self.held);
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_take_and_give_back_across_clones() {
        let budget = InflateBudget::new(100);
        let mut a = Share::new(budget.clone());
        let mut b = Share::new(budget.clone());
        assert!(a.take(60));
        assert!(!b.take(41), "only 40 left");
        assert_eq!(budget.available(), 40, "a failed take takes nothing");
        assert!(b.take(40));
        assert_eq!(budget.available(), 0);
        a.give_back(10);
        assert_eq!(budget.available(), 10);
        a.release();
        assert_eq!(budget.available(), 60);
        drop(b);
        assert_eq!(budget.available(), 100);
        assert_eq!(budget.total(), 100);
    }

    #[test]
    fn giving_back_more_than_held_gives_back_what_is_held() {
        let budget = InflateBudget::new(10);
        let mut a = Share::new(budget.clone());
        assert!(a.take(4));
        a.give_back(usize::MAX);
        assert_eq!(budget.available(), 10);
    }

    #[test]
    fn clones_are_equal_and_distinct_budgets_are_not() {
        let a = InflateBudget::new(1);
        assert_eq!(a, a.clone());
        assert_ne!(a, InflateBudget::new(1));
    }
}
