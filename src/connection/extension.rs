//! The extensions of a connection, as types present in every build: what the configuration
//! lets us negotiate ([`Offer`]) and what is in force once the handshake is done
//! ([`Extensions`]). With the `deflate` feature that is permessage-deflate (RFC 7692), whose
//! codec lives in `crate::deflate`; without it there is nothing to negotiate, and a
//! compressed frame is refused as a reserved bit. The feature gates stay in this file.

use crate::config::{ClientConfig, ServerConfig};
#[cfg(feature = "deflate")]
use crate::deflate::{self, Codec, DeflateConfig};
use crate::error::{Error, HandshakeError, ProtocolError};
#[cfg(feature = "deflate")]
use crate::frame::RSV1;
#[cfg(feature = "deflate")]
use crate::handshake::parse_extensions;
use crate::handshake::ExtensionOffer;
#[cfg(feature = "deflate")]
use crate::state::Role;
#[cfg(feature = "deflate")]
use alloc::boxed::Box;
use alloc::string::String;
use bytes::BytesMut;

/// What the configuration offers (a client) or accepts (a server).
#[derive(Default)]
pub(super) struct Offer {
    #[cfg(feature = "deflate")]
    deflate: Option<DeflateConfig>,
}

impl Offer {
    pub(super) fn client(config: &mut ClientConfig) -> Self {
        #[cfg(not(feature = "deflate"))]
        let _ = config;
        Self {
            #[cfg(feature = "deflate")]
            deflate: config.deflate.take(),
        }
    }

    pub(super) fn server(config: &mut ServerConfig) -> Self {
        #[cfg(not(feature = "deflate"))]
        let _ = config;
        Self {
            #[cfg(feature = "deflate")]
            deflate: config.deflate.take(),
        }
    }

    /// A client's `Sec-WebSocket-Extensions` offer, if any.
    pub(super) fn header(&self) -> Option<String> {
        #[cfg(feature = "deflate")]
        return self.deflate.as_ref().map(|d| d.client_offer());
        #[cfg(not(feature = "deflate"))]
        None
    }

    /// Server side: the `Sec-WebSocket-Extensions` answer to a client's offers, and the
    /// extensions then in force.
    pub(super) fn accept(&self, offers: &[ExtensionOffer]) -> (String, Extensions) {
        #[cfg(feature = "deflate")]
        if let Some(config) = &self.deflate {
            if let Some((params, answer)) = deflate::server_accept(offers, config) {
                let codec = Codec::new(params, false, config);
                return (answer, Extensions::with(codec));
            }
        }
        #[cfg(not(feature = "deflate"))]
        let _ = offers;
        (String::new(), Extensions::default())
    }

    /// Client side: the server's answer names only extensions we offered (checked by the
    /// handshake); check permessage-deflate's parameters and take them.
    pub(super) fn adopt_answer(
        &self,
        accepted: &[ExtensionOffer],
    ) -> Result<Extensions, HandshakeError> {
        #[cfg(feature = "deflate")]
        if let Some(ext) = accepted.iter().find(|e| e.name == deflate::NAME) {
            let config = self
                .deflate
                .as_ref()
                .ok_or(HandshakeError::UnofferedExtension)?;
            let params =
                deflate::client_accept(ext, config).ok_or(HandshakeError::UnofferedExtension)?;
            return Ok(Extensions::with(Codec::new(params, true, config)));
        }
        #[cfg(not(feature = "deflate"))]
        let _ = accepted;
        Ok(Extensions::default())
    }
}

/// The extensions in force: none until the handshake negotiates some.
#[derive(Default)]
pub(super) struct Extensions {
    /// permessage-deflate's codec, once negotiated.
    #[cfg(feature = "deflate")]
    codec: Option<Box<Codec>>,
}

impl Extensions {
    #[cfg(feature = "deflate")]
    fn with(codec: Codec) -> Self {
        Self {
            codec: Some(Box::new(codec)),
        }
    }

    /// A connection upgraded elsewhere: take the non-empty `Sec-WebSocket-Extensions` value
    /// it negotiated.
    pub(super) fn from_upgraded(value: &str, upgraded: &super::Upgraded) -> Result<Self, Error> {
        #[cfg(feature = "deflate")]
        {
            let list = parse_extensions([value.as_bytes()]).ok_or(Error::InvalidHeader)?;
            match list.as_slice() {
                [ext] if ext.name == deflate::NAME => {
                    let config = upgraded.deflate.clone().unwrap_or_default();
                    let params =
                        deflate::client_accept(ext, &config).ok_or(Error::InvalidHeader)?;
                    Ok(Self::with(Codec::new(
                        params,
                        upgraded.role == Role::Client,
                        &config,
                    )))
                }
                _ => Err(Error::InvalidHeader),
            }
        }
        // No extension is implemented without the `deflate` feature.
        #[cfg(not(feature = "deflate"))]
        {
            let _ = (value, upgraded);
            Err(Error::InvalidHeader)
        }
    }

    /// The RSV bits that the extensions in force claim.
    #[inline]
    pub(super) fn allowed_rsv(&self) -> u8 {
        #[cfg(feature = "deflate")]
        if self.codec.is_some() {
            return RSV1;
        }
        0
    }

    /// Compresses a whole message for sending, when that is negotiated and worth it: the
    /// compressed bytes, to send with RSV1.
    #[inline]
    pub(super) fn compress(&mut self, payload: &[u8]) -> Option<&[u8]> {
        #[cfg(feature = "deflate")]
        if let Some(codec) = self.codec.as_deref_mut() {
            if codec.wants(payload.len()) {
                codec.compress_message(payload);
                return Some(codec.scratch.as_slice());
            }
        }
        #[cfg(not(feature = "deflate"))]
        let _ = payload;
        None
    }

    /// Whether `compress` may compress a message of `len` bytes.
    #[inline]
    pub(super) fn may_compress(&self, len: usize) -> bool {
        #[cfg(feature = "deflate")]
        if let Some(codec) = self.codec.as_deref() {
            return codec.wants(len);
        }
        let _ = len;
        false
    }

    /// The message `compress` returned was written out.
    #[inline]
    pub(super) fn compressed_sent(&mut self) {
        #[cfg(feature = "deflate")]
        if let Some(codec) = self.codec.as_deref_mut() {
            codec.release_scratch();
        }
    }

    /// What was inflated so far is complete and handed over (see `Codec`).
    #[inline]
    pub(super) fn inflated_handed_over(&mut self) {
        #[cfg(feature = "deflate")]
        if let Some(codec) = self.codec.as_deref_mut() {
            codec.inflated_handed_over();
        }
    }

    /// Inflates a compressed frame's payload onto `out`, at most `limit` bytes in all;
    /// `end`: the message ends here.
    pub(super) fn inflate(
        &mut self,
        payload: &[u8],
        out: &mut BytesMut,
        limit: usize,
        end: bool,
    ) -> Result<(), ProtocolError> {
        #[cfg(feature = "deflate")]
        if let Some(codec) = self.codec.as_deref_mut() {
            codec.decompress(payload, out, limit)?;
            if end {
                codec.end_message(out, limit)?;
            }
            return Ok(());
        }
        #[cfg(not(feature = "deflate"))]
        let _ = (payload, out, limit, end);
        // Unreachable: without a codec, `recv` refuses RSV1 before any payload.
        Err(ProtocolError::ReservedBitsSet)
    }
}
