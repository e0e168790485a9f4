//! Handing out events, owned or lent. Frames are decoded when the application polls, one
//! event at a time. The decoder leaves a complete payload at the decode position of the
//! input (or in the message buffer); the owned path ([`Connection::poll_event`]) splits it
//! off as `Bytes` without copying, the borrowed path ([`Connection::poll_event_ref`]) lends
//! it and takes it back at the next call, with no allocation and no reference counting.

use super::events::Lent;
use super::recv::{Decoded, Payload};
use super::Connection;
use crate::event::{Event, EventRef, MessageKind};
use crate::utf8::{assume_validated, Utf8Bytes};
use bytes::Bytes;

impl Connection {
    /// The next event, owned; payloads are split off the input without copying.
    #[inline]
    pub(super) fn next_owned(&mut self) -> Option<Event> {
        self.settle_lent();
        self.fail_if_no_random();
        if let Some(e) = self.events.pop() {
            return Some(e);
        }
        match self.decode()? {
            Decoded::Input(what, len) => Some(owned_event(what, self.input.split(len))),
            Decoded::Buffered(what) => Some(owned_event(what, self.message.take())),
            Decoded::Queued => self.events.pop(),
        }
    }

    /// The next event, lent until the next call on the connection.
    #[inline]
    pub(super) fn next_lent(&mut self) -> Option<EventRef<'_>> {
        self.settle_lent();
        self.fail_if_no_random();
        if !self.events.is_empty() {
            return self.events.lend_front().map(EventRef::from_owned);
        }
        match self.decode()? {
            Decoded::Input(what, len) => {
                self.events.lend(Lent::Input(len));
                Some(lent_event(what, self.input.payload(len)))
            }
            Decoded::Buffered(what) => {
                self.events.lend(Lent::Message);
                Some(lent_event(what, self.message.buffered()))
            }
            Decoded::Queued => self.events.lend_front().map(EventRef::from_owned),
        }
    }

    /// Takes back what the previous borrowed event lent.
    #[inline]
    pub(super) fn settle_lent(&mut self) {
        match self.events.take_lent() {
            Lent::Nothing => {}
            Lent::Queued => {
                self.events.pop();
            }
            Lent::Input(len) => self.input.rpos += len,
            Lent::Message => self.message.clear(),
        }
    }

    /// Decodes every complete frame in the input into the event queue, for inputs that must
    /// see them first (the end of the transport, a timer).
    pub(super) fn decode_all(&mut self) {
        self.settle_lent();
        let mut all = self.events.take_queue();
        while let Some(d) = self.decode() {
            match d {
                Decoded::Input(what, len) => {
                    all.push_back(owned_event(what, self.input.split(len)))
                }
                Decoded::Buffered(what) => all.push_back(owned_event(what, self.message.take())),
                Decoded::Queued => self.events.move_to(&mut all),
            }
        }
        self.events.move_to(&mut all);
        self.events.restore(all);
    }
}

fn owned_event(what: Payload, data: Bytes) -> Event {
    match what {
        Payload::Message(MessageKind::Text) => Event::Text(Utf8Bytes::from_validated(data)),
        Payload::Message(MessageKind::Binary) => Event::Binary(data),
        Payload::Fragment(kind, fin) => Event::Fragment { kind, data, fin },
        Payload::Ping => Event::Ping(data),
        Payload::Pong => Event::Pong(data),
    }
}

fn lent_event(what: Payload, data: &[u8]) -> EventRef<'_> {
    match what {
        // The decoder validated the whole message before handing it out.
        Payload::Message(MessageKind::Text) => EventRef::Text(assume_validated(data)),
        Payload::Message(MessageKind::Binary) => EventRef::Binary(data),
        Payload::Fragment(kind, fin) => EventRef::Fragment { kind, data, fin },
        Payload::Ping => EventRef::Ping(data),
        Payload::Pong => EventRef::Pong(data),
    }
}
