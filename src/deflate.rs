//! permessage-deflate (RFC 7692): negotiating its parameters in the opening handshake and
//! compressing / inflating messages.
//!
//! A compressed message has RSV1 set on its first frame; its payload is raw DEFLATE data
//! flushed with a sync flush, minus the final `00 00 ff ff` (§7.2.1), which the receiver puts
//! back before inflating (§7.2.2). Control frames are never compressed. Inflating stops at
//! the message-size limit, so a small "decompression bomb" closes with 1009.
//!
//! # Memory
//!
//! An idle connection holds no compressor and no decompressor: each is made when first
//! used and, under `*_no_context_takeover`, dropped after every message. With context
//! takeover they stay until the connection closes. What a server holds then, after one
//! compressed 64 KiB echo, by the window size both sides agreed on (the decompressor always
//! has 15 bits, which inflates data from any smaller window; `tests/bounded_memory.rs`):
//!
//! | window bits | 9 | 10 | 11 | 12 | 13 | 14 | 15 |
//! |---|--:|--:|--:|--:|--:|--:|--:|
//! | KiB held | 324 | 326 | 330 | 338 | 354 | 386 | 450 |
//!
//! Most of it is zlib's hash tables and buffers, whose size does not follow the window:
//! no context takeover (under 3 KiB idle) is what saves memory, not a smaller window.
//!
//! Inflation is bounded per connection by `max_message_size`, and per process by an
//! [`InflateBudget`] when the configuration has one: without it, N connections inflating
//! bombs at once may hold N times the limit. A connection takes from the budget as it
//! inflates and gives back when the message is complete; one that finds it spent closes
//! with 1013 (try again later).

use crate::error::ProtocolError;
use crate::extension_header::ExtensionOffer;
use crate::inflate_budget::{InflateBudget, Share};
use alloc::string::String;
use alloc::vec::Vec;
use bytes::BytesMut;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// zlib cannot compress with a 256-byte window (it silently uses 512), so we never promise
/// to; we can always inflate data made with any window.
const MIN_COMPRESS_WINDOW: u8 = 9;

/// What we offer (client) or accept (server), with RFC 7692's parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateConfig {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<u8>,
    level: u32,
    min_size: usize,
    inflate_budget: Option<InflateBudget>,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            level: 6,
            min_size: 32,
            inflate_budget: None,
        }
    }
}

impl DeflateConfig {
    /// Context takeover both ways, 32 KiB windows, compression level 6, messages under 32
    /// bytes sent uncompressed (they would only grow).
    pub fn new() -> Self {
        Self::default()
    }

    /// The server starts every message with an empty window (§7.1.1): saves the server
    /// 32 KiB per connection, costs ratio. Default off.
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// The client starts every message with an empty window (§7.1.1). Default off.
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Limits the server's compression window to 2^bits bytes (9-15, §7.1.2). Default 15.
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = Some(bits.clamp(MIN_COMPRESS_WINDOW, 15));
        self
    }

    /// Limits the client's compression window to 2^bits bytes (9-15, §7.1.2). Default 15.
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = Some(bits.clamp(MIN_COMPRESS_WINDOW, 15));
        self
    }

    /// The zlib compression level, 0-9. Default 6.
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Messages shorter than this are sent uncompressed. Default 32 bytes.
    pub fn min_size(mut self, bytes: usize) -> Self {
        self.min_size = bytes;
        self
    }

    /// Inflates within `budget`, shared with every connection configured with a clone of it
    /// (see [`InflateBudget`]): a connection that finds it spent fails with 1013. Default:
    /// none, so each connection is bounded by `max_message_size` alone.
    pub fn inflate_budget(mut self, budget: InflateBudget) -> Self {
        self.inflate_budget = Some(budget);
        self
    }

    /// The client's `Sec-WebSocket-Extensions` offer.
    pub(crate) fn client_offer(&self) -> String {
        let mut s = String::from(NAME);
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if let Some(bits) = self.server_max_window_bits {
            s.push_str(&alloc::format!("; server_max_window_bits={bits}"));
        }
        match self.client_max_window_bits {
            Some(bits) => s.push_str(&alloc::format!("; client_max_window_bits={bits}")),
            // Tell the server it may limit our window (§7.1.2.2).
            None => s.push_str("; client_max_window_bits"),
        }
        s
    }
}

/// The parameters both ends agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
}

/// One offer's or answer's parameters, each at most once and well-formed (§7.1).
#[derive(Default)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (only valid in an offer).
    client_max_window_bits: Option<Option<u8>>,
}

fn parse(ext: &ExtensionOffer) -> Option<Parsed> {
    let mut p = Parsed::default();
    let bits = |v: &Option<String>| -> Option<u8> {
        let v = v.as_deref()?;
        // §7.1.2: 1*DIGIT in 8..=15, no leading zeros.
        if v.starts_with('0') {
            return None;
        }
        v.parse::<u8>().ok().filter(|b| (8..=15).contains(b))
    };
    for (name, value) in &ext.params {
        match name.as_str() {
            "server_no_context_takeover" if !p.server_no_context_takeover && value.is_none() => {
                p.server_no_context_takeover = true
            }
            "client_no_context_takeover" if !p.client_no_context_takeover && value.is_none() => {
                p.client_no_context_takeover = true
            }
            "server_max_window_bits" if p.server_max_window_bits.is_none() => {
                p.server_max_window_bits = Some(bits(value)?)
            }
            "client_max_window_bits" if p.client_max_window_bits.is_none() => {
                p.client_max_window_bits = Some(match value {
                    None => None,
                    Some(_) => Some(bits(value)?),
                })
            }
            _ => return None,
        }
    }
    Some(p)
}

/// Server side: the first acceptable offer, with the answer to send (§7.1).
pub(crate) fn server_accept(
    offers: &[ExtensionOffer],
    config: &DeflateConfig,
) -> Option<(Params, String)> {
    offers.iter().filter(|o| o.name == NAME).find_map(|offer| {
        let p = parse(offer)?;
        // The client asks us to compress with at most this window; 8 we cannot honour.
        let server_bits = match (p.server_max_window_bits, config.server_max_window_bits) {
            (Some(b), _) if b < MIN_COMPRESS_WINDOW => return None,
            (Some(b), Some(c)) => Some(b.min(c)),
            (a, b) => a.or(b),
        };
        // We may limit the client's window only if it said it supports the parameter.
        let client_bits = match (p.client_max_window_bits, config.client_max_window_bits) {
            (Some(Some(b)), Some(c)) => Some(b.min(c)),
            (Some(Some(b)), None) => Some(b),
            (Some(None), c) => c,
            (None, _) => None,
        };
        let params = Params {
            server_no_context_takeover: p.server_no_context_takeover
                || config.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover
                || config.client_no_context_takeover,
            server_max_window_bits: server_bits.unwrap_or(15),
            client_max_window_bits: client_bits.unwrap_or(15),
        };
        Some((params, answer(&params, server_bits, client_bits)))
    })
}

fn answer(params: &Params, server_bits: Option<u8>, client_bits: Option<u8>) -> String {
    let mut s = String::from(NAME);
    if params.server_no_context_takeover {
        s.push_str("; server_no_context_takeover");
    }
    if params.client_no_context_takeover {
        s.push_str("; client_no_context_takeover");
    }
    if let Some(b) = server_bits {
        s.push_str(&alloc::format!("; server_max_window_bits={b}"));
    }
    if let Some(b) = client_bits {
        s.push_str(&alloc::format!("; client_max_window_bits={b}"));
    }
    s
}

/// Client side: checks the server's answer against what we offered (§7.1). Also used to
/// take the parameters of a connection upgraded elsewhere.
pub(crate) fn client_accept(ext: &ExtensionOffer, config: &DeflateConfig) -> Option<Params> {
    let p = parse(ext)?;
    let server_bits = p.server_max_window_bits.unwrap_or(15);
    if let Some(offered) = config.server_max_window_bits {
        // The server must honour the limit we asked for.
        if server_bits > offered {
            return None;
        }
    }
    let client_bits = match p.client_max_window_bits {
        // An answer must carry a value; and we cannot compress with a 256-byte window.
        Some(None) => return None,
        Some(Some(b)) if b < MIN_COMPRESS_WINDOW => return None,
        Some(Some(b)) => b,
        None => 15,
    };
    Some(Params {
        server_no_context_takeover: p.server_no_context_takeover
            || config.server_no_context_takeover,
        client_no_context_takeover: p.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits.min(config.client_max_window_bits.unwrap_or(15)),
    })
}

/// The largest compressed-message buffer kept between messages.
const RETAINED_SCRATCH: usize = 64 << 10;

/// The compressor and decompressor of one connection.
pub(crate) struct Codec {
    /// Made on first use, and dropped after each message when our side starts every
    /// message afresh: an idle connection holds neither (each costs a window and tables).
    compress: Option<Compress>,
    decompress: Option<Decompress>,
    level: u32,
    window_bits: u8,
    /// Our compressor starts every message afresh.
    reset_compress: bool,
    /// The peer's compressor starts every message afresh, so ours may forget too.
    reset_decompress: bool,
    min_size: usize,
    /// What this connection holds of the process-wide inflate budget, if there is one.
    budget: Option<Share>,
    /// The last compressed message, reused between messages while small (see
    /// `release_scratch`).
    pub(crate) scratch: Vec<u8>,
}

impl core::fmt::Debug for Codec {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Codec").finish_non_exhaustive()
    }
}

impl Codec {
    /// The codec for `params`, from the point of view of a client or a server.
    pub(crate) fn new(params: Params, is_client: bool, config: &DeflateConfig) -> Self {
        let (ours_bits, ours_reset, theirs_reset) = if is_client {
            (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                params.server_no_context_takeover,
            )
        } else {
            (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                params.client_no_context_takeover,
            )
        };
        Self {
            compress: None,
            decompress: None,
            level: config.level,
            window_bits: ours_bits.clamp(MIN_COMPRESS_WINDOW, 15),
            reset_compress: ours_reset,
            reset_decompress: theirs_reset,
            min_size: config.min_size,
            budget: config.inflate_budget.clone().map(Share::new),
            scratch: Vec::new(),
        }
    }

    /// Whether a message of this size is worth compressing.
    pub(crate) fn wants(&self, len: usize) -> bool {
        len >= self.min_size
    }

    /// Compresses a whole message into `scratch`.
    pub(crate) fn compress_message(&mut self, input: &[u8]) {
        let mut out = core::mem::take(&mut self.scratch);
        self.compress(input, &mut out);
        self.scratch = out;
    }

    /// Frees the scratch buffer once a large message was sent from it, so a connection does
    /// not keep the largest compressed message it ever sent.
    pub(crate) fn release_scratch(&mut self) {
        if self.scratch.capacity() > RETAINED_SCRATCH {
            self.scratch = Vec::new();
        }
    }

    /// Compresses a whole message into `out` (§7.2.1).
    pub(crate) fn compress(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        let (level, bits) = (self.level, self.window_bits);
        let compress = self.compress.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(level), false, bits)
        });
        out.clear();
        out.reserve(input.len() / 2 + 64);
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64));
            }
            let before_in = compress.total_in();
            // Compression of in-memory data cannot fail; a failure would be a zlib bug.
            let _ = compress.compress_vec(input, out, FlushCompress::Sync);
            let consumed = (compress.total_in() - before_in) as usize;
            input = &input[consumed..];
            // The sync flush is complete once all input is in and output space is left over.
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.is_empty() {
            // An empty message after others (the stream already byte-aligned) flushes to
            // the tail alone; RFC 7692 §7.2.3.6 sends it as one empty stored-block header.
            out.push(0x00);
        }
        if self.reset_compress {
            self.compress = None;
        }
    }

    /// Ends a message: inflates the removed tail (§7.2.2) and forgets the window if the
    /// peer does not keep it.
    pub(crate) fn end_message(
        &mut self,
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        self.decompress(&TAIL, out, limit)?;
        if self.reset_decompress {
            self.decompress = None;
        }
        Ok(())
    }

    /// What was inflated so far was handed over (a whole message, or a streamed fragment):
    /// its bytes go back to the inflate budget.
    pub(crate) fn inflated_handed_over(&mut self) {
        if let Some(share) = &mut self.budget {
            share.release();
        }
    }

    /// Inflates one frame's payload onto `out`, failing once `out` would exceed `limit`.
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        let result = self.inflate_onto(input, out, limit);
        if result.is_err() {
            // The message is abandoned with the connection.
            self.inflated_handed_over();
        }
        result
    }

    fn inflate_onto(
        &mut self,
        mut input: &[u8],
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        const STEP: usize = 16 << 10;
        // Inflating with the largest window accepts data made with any smaller one.
        let decompress = self
            .decompress
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, 15));
        loop {
            let start = out.len();
            // Room for one byte past the limit, to see a message exceed it; saturating, since
            // `usize::MAX` means "no limit".
            let room = STEP.min(limit.saturating_sub(start).saturating_add(1));
            if let Some(share) = &mut self.budget {
                if !share.take(room) {
                    return Err(ProtocolError::InflateBudgetExhausted);
                }
            }
            out.resize(start.saturating_add(room), 0);
            let before_in = decompress.total_in();
            let before_out = decompress.total_out();
            let status = decompress
                .decompress(input, &mut out[start..], FlushDecompress::Sync)
                .map_err(|_| ProtocolError::BadCompressedData)?;
            let consumed = (decompress.total_in() - before_in) as usize;
            let produced = (decompress.total_out() - before_out) as usize;
            out.truncate(start + produced);
            if let Some(share) = &mut self.budget {
                share.give_back(room - produced);
            }
            input = &input[consumed..];
            if out.len() > limit {
                return Err(ProtocolError::MessageTooLarge);
            }
            if status == Status::StreamEnd {
                // A final block (BFINAL) ends this stream; the next message starts a new one.
                decompress.reset(false);
                if !input.is_empty() {
                    return Err(ProtocolError::BadCompressedData);
                }
                return Ok(());
            }
            if (input.is_empty() && produced < room) || (consumed == 0 && produced == 0) {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::parse_extensions;

    fn offers(s: &str) -> Vec<ExtensionOffer> {
        parse_extensions([s.as_bytes()]).unwrap()
    }

    #[test]
    fn rfc_7692_example_hello() {
        // §7.2.3.1: "Hello" compressed as a single frame.
        let compressed = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let params = Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        let mut codec = Codec::new(params, true, &DeflateConfig::new());
        let mut out = BytesMut::new();
        codec.decompress(&compressed, &mut out, 1000).unwrap();
        codec.end_message(&mut out, 1000).unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.2: with context takeover, the second "Hello" is a back-reference.
        let mut out = BytesMut::new();
        codec
            .decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], &mut out, 1000)
            .unwrap();
        codec.end_message(&mut out, 1000).unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.3: an uncompressed (stored) block.
        let mut out = BytesMut::new();
        codec
            .decompress(
                &[
                    0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
                ],
                &mut out,
                1000,
            )
            .unwrap();
        codec.end_message(&mut out, 1000).unwrap();
        assert_eq!(&out[..], b"Hello");
    }

    #[test]
    fn round_trip_with_and_without_context() {
        for reset in [false, true] {
            let params = Params {
                server_no_context_takeover: reset,
                client_no_context_takeover: reset,
                server_max_window_bits: 10,
                client_max_window_bits: 9,
            };
            let config = DeflateConfig::new();
            let mut client = Codec::new(params, true, &config);
            let mut server = Codec::new(params, false, &config);
            let mut wire = Vec::new();
            for i in 0..20 {
                let msg = alloc::format!("message {i}: {}", "Привет, сервер! ".repeat(i * 7));
                client.compress(msg.as_bytes(), &mut wire);
                assert!(!wire.ends_with(&TAIL));
                let mut out = BytesMut::new();
                // Split the compressed payload as fragments would.
                let mid = wire.len() / 2;
                server.decompress(&wire[..mid], &mut out, 1 << 20).unwrap();
                server.decompress(&wire[mid..], &mut out, 1 << 20).unwrap();
                server.end_message(&mut out, 1 << 20).unwrap();
                assert_eq!(&out[..], msg.as_bytes());
            }
        }
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let params = Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        let mut client = Codec::new(params, true, &DeflateConfig::new());
        let mut server = Codec::new(params, false, &DeflateConfig::new());
        let mut wire = Vec::new();
        client.compress(&alloc::vec![0u8; 10 << 20], &mut wire);
        assert!(wire.len() < 20 << 10);
        let mut out = BytesMut::new();
        assert_eq!(
            server.decompress(&wire, &mut out, 1 << 20),
            Err(ProtocolError::MessageTooLarge)
        );
        assert!(out.len() <= (1 << 20) + (16 << 10) + 1);
        let mut fresh = Codec::new(params, false, &DeflateConfig::new());
        let mut out = BytesMut::new();
        assert_eq!(
            fresh.decompress(&[0xff, 0xff, 0xff], &mut out, 100),
            Err(ProtocolError::BadCompressedData)
        );
    }

    #[test]
    fn unlimited_limit_inflates_everything() {
        let params = Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        for is_client in [true, false] {
            let mut ours = Codec::new(params, is_client, &DeflateConfig::new());
            let mut theirs = Codec::new(params, !is_client, &DeflateConfig::new());
            let msg = "no limit at all ".repeat(2000);
            let mut wire = Vec::new();
            theirs.compress(msg.as_bytes(), &mut wire);
            let mut out = BytesMut::new();
            ours.decompress(&wire, &mut out, usize::MAX).unwrap();
            ours.end_message(&mut out, usize::MAX).unwrap();
            assert_eq!(&out[..], msg.as_bytes());
        }
    }

    #[test]
    fn server_negotiation() {
        let config = DeflateConfig::new();
        // Chromium's offer.
        let (p, answer) = server_accept(
            &offers("permessage-deflate; client_max_window_bits"),
            &config,
        )
        .unwrap();
        assert_eq!(answer, "permessage-deflate");
        assert_eq!(
            (p.server_max_window_bits, p.client_max_window_bits),
            (15, 15)
        );
        // Firefox-like: with parameters, and a fallback offer.
        let (p, answer) = server_accept(
            &offers("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover; client_max_window_bits=10"),
            &config,
        )
        .unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
        );
        assert!(p.server_no_context_takeover);
        assert_eq!(p.client_max_window_bits, 10);
        // The server limits the client's window only if the client allowed it.
        let limiting = DeflateConfig::new()
            .client_max_window_bits(12)
            .server_max_window_bits(11);
        let (_, answer) = server_accept(
            &offers("permessage-deflate; client_max_window_bits"),
            &limiting,
        )
        .unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=12"
        );
        let (_, answer) = server_accept(&offers("permessage-deflate"), &limiting).unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=11");
        // Broken offers are declined, not answered.
        for bad in [
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; client_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; x=1",
            "x-webkit-deflate-frame",
        ] {
            assert!(server_accept(&offers(bad), &config).is_none(), "{bad}");
        }
    }

    #[test]
    fn client_checks_the_answer() {
        let config = DeflateConfig::new().server_max_window_bits(12);
        assert_eq!(
            config.client_offer(),
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits"
        );
        let ok = client_accept(
            &offers("permessage-deflate; server_max_window_bits=10; client_max_window_bits=11")[0],
            &config,
        )
        .unwrap();
        assert_eq!(
            (ok.server_max_window_bits, ok.client_max_window_bits),
            (10, 11)
        );
        for bad in [
            "permessage-deflate; server_max_window_bits=13",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=8",
            "permessage-deflate; unknown",
        ] {
            assert!(client_accept(&offers(bad)[0], &config).is_none(), "{bad}");
        }
    }
}
