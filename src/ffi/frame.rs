//! `wsm_frame_info`: what `wsm_conn_poll_frame` hands out when the frame trace is on
//! (`wsm_options_set_trace_frames`), one frame's header fields and payload preview.

use crate::connection::{Direction, FrameInfo};

/// Which way a traced frame went, or that none is waiting.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsm_frame_direction {
    /// No frame record is waiting.
    WSM_FRAME_NONE = 0,
    /// A frame from the peer.
    WSM_FRAME_RECEIVED = 1,
    /// A frame of ours, queued in the pending output when recorded.
    WSM_FRAME_SENT = 2,
}

/// The most payload bytes a `wsm_frame_info` previews.
pub const WSM_FRAME_PREVIEW_MAX: usize = 32;

/// One frame as it is on the wire. The library writes the whole struct: it need not be
/// initialised. Fields other than `direction` are 0/false for `WSM_FRAME_NONE`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wsm_frame_info {
    /// Which way it went (`WSM_FRAME_NONE`: no record was waiting).
    pub direction: wsm_frame_direction,
    /// The opcode: 0x0 continuation, 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong.
    pub opcode: u8,
    /// The FIN bit.
    pub fin: bool,
    /// The reserved bits as the low three bits: 4 is RSV1 (a compressed message's first
    /// frame), 2 RSV2, 1 RSV3.
    pub rsv: u8,
    /// Whether the payload was masked.
    pub masked: bool,
    /// The payload length from the header (compressed, when RSV1 is set).
    pub payload_len: u64,
    /// The first `preview_len` payload bytes, unmasked.
    pub preview: [u8; WSM_FRAME_PREVIEW_MAX],
    /// How many bytes of `preview` are the payload's (at most `WSM_FRAME_PREVIEW_MAX`).
    pub preview_len: usize,
}

impl wsm_frame_info {
    pub(crate) fn view(info: Option<FrameInfo>) -> Self {
        let mut out = Self {
            direction: wsm_frame_direction::WSM_FRAME_NONE,
            opcode: 0,
            fin: false,
            rsv: 0,
            masked: false,
            payload_len: 0,
            preview: [0; WSM_FRAME_PREVIEW_MAX],
            preview_len: 0,
        };
        if let Some(f) = info {
            out.direction = match f.direction {
                Direction::Received => wsm_frame_direction::WSM_FRAME_RECEIVED,
                Direction::Sent => wsm_frame_direction::WSM_FRAME_SENT,
            };
            out.opcode = f.opcode as u8;
            out.fin = f.fin;
            out.rsv = f.rsv;
            out.masked = f.masked;
            out.payload_len = f.payload_len;
            let preview = f.preview();
            out.preview[..preview.len()].copy_from_slice(preview);
            out.preview_len = preview.len();
        }
        out
    }
}
