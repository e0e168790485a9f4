//! permessage-deflate in the connection: adopting what the handshake negotiated, inflating
//! compressed messages as their frames arrive, compressing what we send. The codec itself
//! lives in `crate::deflate`.

use super::recv::{Decoded, Payload};
use super::{Connection, Role};
use crate::deflate::{self, Codec, DeflateConfig};
use crate::error::{Error, HandshakeError, ProtocolError};
use crate::event::MessageKind;
use crate::frame::{FrameHeader, RSV1};
use crate::handshake::{parse_extensions, ExtensionOffer};
use alloc::boxed::Box;
use alloc::string::String;

/// Server side: the `Sec-WebSocket-Extensions` answer and the codec for a client's offers.
pub(super) fn accept_offer(
    offers: &[ExtensionOffer],
    config: Option<&DeflateConfig>,
) -> (String, Option<Box<Codec>>) {
    let Some(config) = config else {
        return (String::new(), None);
    };
    match deflate::server_accept(offers, config) {
        Some((params, answer)) => (answer, Some(Box::new(Codec::new(params, false, config)))),
        None => (String::new(), None),
    }
}

impl Connection {
    pub(super) fn set_codec(&mut self, codec: Option<Box<Codec>>) {
        self.rx.allowed_rsv = if codec.is_some() { RSV1 } else { 0 };
        self.codec = codec;
    }

    /// Client side: the server's answer names only extensions we offered (checked by the
    /// handshake); check permessage-deflate's parameters and take them.
    pub(super) fn adopt_answer(
        &mut self,
        accepted: &[ExtensionOffer],
        offered: Option<&DeflateConfig>,
    ) -> Result<(), HandshakeError> {
        let Some(ext) = accepted.iter().find(|e| e.name == deflate::NAME) else {
            return Ok(());
        };
        let config = offered.ok_or(HandshakeError::UnofferedExtension)?;
        let params =
            deflate::client_accept(ext, config).ok_or(HandshakeError::UnofferedExtension)?;
        self.set_codec(Some(Box::new(Codec::new(params, true, config))));
        Ok(())
    }

    /// A connection upgraded elsewhere: take the extensions it negotiated.
    pub(super) fn adopt_extensions(&mut self, value: &str) -> Result<(), Error> {
        let list = parse_extensions([value.as_bytes()]).ok_or(Error::InvalidHeader)?;
        match list.as_slice() {
            [ext] if ext.name == deflate::NAME => {
                let config = DeflateConfig::new();
                let params = deflate::client_accept(ext, &config).ok_or(Error::InvalidHeader)?;
                let codec = Codec::new(params, self.role == Role::Client, &config);
                self.set_codec(Some(Box::new(codec)));
                Ok(())
            }
            _ => Err(Error::InvalidHeader),
        }
    }

    /// A complete frame of a compressed message: inflate it onto the reassembly buffer,
    /// validating text as it comes out.
    pub(super) fn on_compressed_data(
        &mut self,
        h: FrameHeader,
        kind: MessageKind,
        len: usize,
    ) -> Result<Option<Decoded>, ProtocolError> {
        let limit = self.options.max_message_size;
        let codec = self
            .codec
            .as_deref_mut()
            .ok_or(ProtocolError::ReservedBitsSet)?;
        let start = self.rx.buffer.len();
        let payload = &self.input[self.rpos..self.rpos + len];
        codec.decompress(payload, &mut self.rx.buffer, limit)?;
        self.rpos += len;
        // A message whose compressed payload is empty altogether is empty: appending the
        // tail to nothing would open a stored block that never ends (§7.2.3.6 sends 0x00).
        let empty = self.rx.message_len == 0 && len == 0;
        if h.fin && !empty {
            codec.end_message(&mut self.rx.buffer, limit)?;
        }
        if kind == MessageKind::Text {
            self.rx
                .utf8
                .feed(&self.rx.buffer[start..])
                .map_err(|_| ProtocolError::InvalidUtf8)?;
            if h.fin && !self.rx.utf8.is_complete() {
                return Err(ProtocolError::InvalidUtf8);
            }
        }
        self.rx.message_len += len as u64;
        if h.fin {
            self.rx.message = None;
            self.rx.message_len = 0;
            self.rx.compressed = false;
            self.rx.utf8.reset();
        } else {
            self.rx.message = Some(kind);
            self.rx.compressed = true;
        }
        Ok(if self.options.stream_fragments {
            Some(Decoded::Buffered(Payload::Fragment(kind, h.fin)))
        } else if h.fin {
            Some(Decoded::Buffered(Payload::Message(kind)))
        } else {
            None
        })
    }

    /// Compresses a whole message for sending, if worth it; returns whether it did (the
    /// compressed bytes are then in the codec's scratch buffer).
    pub(super) fn compress_outgoing(&mut self, payload: &[u8]) -> bool {
        match self.codec.as_deref_mut() {
            Some(codec) if codec.wants(payload.len()) => {
                codec.compress_message(payload);
                true
            }
            _ => false,
        }
    }
}
