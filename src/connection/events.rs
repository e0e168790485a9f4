//! The event queue, and what a borrowed event has on loan. Events without a payload in the
//! input (open, close, errors) wait in the queue; a borrowed event lends one thing at a
//! time, given back at the next call on the connection.

use crate::event::Event;
use alloc::collections::VecDeque;

/// What the last borrowed event lent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Lent {
    #[default]
    Nothing,
    /// The front of the queue: popped when given back.
    Queued,
    /// This many payload bytes at the decode position of the input: skipped when given back.
    Input(usize),
    /// The message buffer: cleared when given back.
    Message,
}

#[derive(Default)]
pub(super) struct Events {
    queue: VecDeque<Event>,
    lent: Lent,
}

impl Events {
    #[inline]
    pub(super) fn push(&mut self, e: Event) {
        self.queue.push_back(e);
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    #[inline]
    pub(super) fn pop(&mut self) -> Option<Event> {
        if self.queue.is_empty() {
            return None;
        }
        let e = self.queue.pop_front();
        if self.queue.is_empty() && self.queue.capacity() > 0 {
            // Control events are rare: an idle connection holds no queue.
            self.queue = VecDeque::new();
        }
        e
    }

    /// Lends the front of the queue until the next call.
    #[inline]
    pub(super) fn lend_front(&mut self) -> Option<&Event> {
        let front = self.queue.front()?;
        self.lent = Lent::Queued;
        Some(front)
    }

    #[inline]
    pub(super) fn lend(&mut self, what: Lent) {
        self.lent = what;
    }

    /// Whether something is on loan.
    #[inline]
    pub(super) fn has_loan(&self) -> bool {
        self.lent != Lent::Nothing
    }

    /// What is on loan, now given back.
    #[inline]
    pub(super) fn take_lent(&mut self) -> Lent {
        core::mem::take(&mut self.lent)
    }

    /// Takes the whole queue, to put decoded events behind it (see `decode_all`).
    pub(super) fn take_queue(&mut self) -> VecDeque<Event> {
        core::mem::take(&mut self.queue)
    }

    /// Moves what was queued since `take_queue` to the back of `all`.
    pub(super) fn move_to(&mut self, all: &mut VecDeque<Event>) {
        all.append(&mut self.queue);
    }

    pub(super) fn restore(&mut self, all: VecDeque<Event>) {
        self.queue = all;
    }
}
