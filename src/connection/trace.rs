//! The frame trace (`Options::trace_frames`): one [`FrameInfo`] per frame received or
//! queued for sending, kept in a bounded queue that the application drains with
//! [`Connection::poll_frame`]. Off by default, and then the connection holds no trace and
//! each hook is one untaken branch on a null pointer.
//!
//! The hooks: `recv` calls [`Connection::trace_received`] once a frame's payload is all in
//! (its fast path for small messages steps aside while tracing), `send` calls
//! `trace::sent` for every frame it writes.

use super::Connection;
use crate::frame::{FrameHeader, OpCode, RSV1};
use crate::mask::apply_mask;
use alloc::boxed::Box;
use alloc::collections::VecDeque;

const TRACE_CAPACITY: usize = Connection::TRACE_CAPACITY;
const PREVIEW_LEN: usize = FrameInfo::PREVIEW_LEN;

/// Which way a traced frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the peer.
    Received,
    /// From us: queued in the output when recorded.
    Sent,
}

/// One frame as it is on the wire, recorded when [`Options::trace_frames`] is on and drained
/// with [`Connection::poll_frame`].
///
/// [`Options::trace_frames`]: crate::Options::trace_frames
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// Which way it went.
    pub direction: Direction,
    /// Its opcode.
    pub opcode: OpCode,
    /// The FIN bit.
    pub fin: bool,
    /// The three reserved bits as the low bits of this byte: [`RSV1`] (permessage-deflate's
    /// compressed-message bit) is `0b100`.
    ///
    /// [`RSV1`]: crate::frame::RSV1
    pub rsv: u8,
    /// Whether the payload was masked (always for a client's frames, never for a server's).
    pub masked: bool,
    /// The payload length from the header (the compressed length for a compressed frame).
    pub payload_len: u64,
    preview: [u8; PREVIEW_LEN],
    preview_len: u8,
}

impl FrameInfo {
    /// How many payload bytes a record keeps.
    pub const PREVIEW_LEN: usize = 32;

    /// The first bytes of the payload (up to 32), unmasked: as the peer meant them, still
    /// compressed when [`rsv1`](Self::rsv1) says so.
    #[inline]
    pub fn preview(&self) -> &[u8] {
        &self.preview[..usize::from(self.preview_len)]
    }

    /// Whether RSV1 is set (a compressed message's first frame).
    #[inline]
    pub fn rsv1(&self) -> bool {
        self.rsv & RSV1 != 0
    }

    /// Whether [`preview`](Self::preview) is the whole payload.
    #[inline]
    pub fn is_whole(&self) -> bool {
        self.payload_len == u64::from(self.preview_len)
    }

    fn new(
        direction: Direction,
        opcode: OpCode,
        fin: bool,
        rsv: u8,
        mask: Option<[u8; 4]>,
        payload: &[u8],
        payload_len: u64,
    ) -> Self {
        let n = payload.len().min(PREVIEW_LEN);
        let mut preview = [0u8; PREVIEW_LEN];
        preview[..n].copy_from_slice(&payload[..n]);
        Self {
            direction,
            opcode,
            fin,
            rsv,
            masked: mask.is_some(),
            payload_len,
            preview,
            // PREVIEW_LEN fits in a byte.
            preview_len: n as u8,
        }
    }
}

/// The recorded frames not yet drained, and how many were dropped.
#[derive(Default)]
pub(super) struct Trace {
    queue: VecDeque<FrameInfo>,
    dropped: u64,
}

impl Trace {
    pub(super) fn new_boxed() -> Box<Self> {
        Box::default()
    }

    fn push(&mut self, info: FrameInfo) {
        if self.queue.len() == TRACE_CAPACITY {
            self.queue.pop_front();
            self.dropped += 1;
        }
        self.queue.push_back(info);
    }
}

impl Connection {
    /// How many frame records wait at most; past that the oldest is dropped and counted
    /// ([`frames_dropped`](Self::frames_dropped)). 48 KiB of records.
    pub const TRACE_CAPACITY: usize = 1024;

    /// Hook for `recv`: a complete frame whose payload lies at the decode position of the
    /// input, still masked when `masked_still` (the fused path unmasks on its way to the
    /// message buffer).
    #[inline]
    pub(super) fn trace_received(&mut self, h: &FrameHeader, masked_still: bool) {
        if self.trace.is_some() {
            self.record_received(h, masked_still);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_received(&mut self, h: &FrameHeader, masked_still: bool) {
        let len = h.payload_len as usize;
        let payload = self.input.payload(len);
        let mut head = [0u8; PREVIEW_LEN];
        let n = len.min(PREVIEW_LEN);
        head[..n].copy_from_slice(&payload[..n]);
        if let (true, Some(key)) = (masked_still, h.mask) {
            apply_mask(&mut head[..n], key, 0);
        }
        let info = FrameInfo::new(
            Direction::Received,
            h.opcode,
            h.fin,
            h.rsv,
            h.mask,
            &head[..n],
            h.payload_len,
        );
        if let Some(trace) = self.trace.as_mut() {
            trace.push(info);
        }
    }

    /// The next recorded frame, oldest first, when [`Options::trace_frames`] is on.
    ///
    /// [`Options::trace_frames`]: crate::Options::trace_frames
    #[inline]
    pub fn poll_frame(&mut self) -> Option<FrameInfo> {
        self.trace.as_mut()?.queue.pop_front()
    }

    /// How many frame records were dropped, oldest first, because more than
    /// [`TRACE_CAPACITY`](Self::TRACE_CAPACITY) waited undrained.
    pub fn frames_dropped(&self) -> u64 {
        self.trace.as_ref().map_or(0, |t| t.dropped)
    }
}

/// Hook for `send`: a frame just written to the output, with its unmasked payload. A free
/// function over the one field, so it may run while the payload borrows another (the
/// compressor's buffer).
#[inline]
pub(super) fn sent(
    trace: &mut Option<Box<Trace>>,
    fin: bool,
    rsv: u8,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    if let Some(trace) = trace.as_mut() {
        record_sent(trace, fin, rsv, opcode, mask, payload);
    }
}

#[cold]
#[inline(never)]
fn record_sent(
    trace: &mut Trace,
    fin: bool,
    rsv: u8,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    trace.push(FrameInfo::new(
        Direction::Sent,
        opcode,
        fin,
        rsv,
        mask,
        payload,
        payload.len() as u64,
    ));
}
