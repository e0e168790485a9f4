//! What a handshake done elsewhere hands over to start a connection in the `Open` state
//! (`Connection::from_upgraded`).

use crate::config::Options;
use crate::random::RandomSource;
use crate::state::Role;
use alloc::boxed::Box;
use alloc::string::String;

/// A connection that was upgraded elsewhere (a web framework's own handshake, or RFC 8441
/// over HTTP/2), to be started directly in the `Open` state. Made with [`Upgraded::new`]
/// and its setters (fields may be added in minor releases).
#[non_exhaustive]
pub struct Upgraded {
    /// Our role.
    pub role: Role,
    /// The negotiated subprotocol.
    pub subprotocol: Option<String>,
    /// The negotiated `Sec-WebSocket-Extensions` value; empty when none.
    pub extensions: String,
    /// The common options.
    pub options: Options,
    /// The random source for a client's masking keys (default: the operating system's).
    pub random: Option<Box<dyn RandomSource>>,
    /// The permessage-deflate configuration the handshake negotiated with (its compression
    /// level, minimum size and context-takeover choices); `None`: the defaults.
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::DeflateConfig>,
}

impl core::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Upgraded")
            .field("role", &self.role)
            .field("subprotocol", &self.subprotocol)
            .field("extensions", &self.extensions)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Upgraded {
    /// A connection in `role` with `options`, no subprotocol, no extension and the default
    /// random source.
    pub fn new(role: Role, options: Options) -> Self {
        Self {
            role,
            subprotocol: None,
            extensions: String::new(),
            options,
            random: None,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// The negotiated subprotocol.
    pub fn subprotocol(mut self, subprotocol: impl Into<String>) -> Self {
        self.subprotocol = Some(subprotocol.into());
        self
    }

    /// The negotiated `Sec-WebSocket-Extensions` value.
    pub fn extensions(mut self, extensions: impl Into<String>) -> Self {
        self.extensions = extensions.into();
        self
    }

    /// The random source for a client's masking keys.
    pub fn random(mut self, source: impl RandomSource + 'static) -> Self {
        self.random = Some(Box::new(source));
        self
    }

    /// The permessage-deflate configuration the handshake negotiated with.
    #[cfg(feature = "deflate")]
    pub fn deflate(mut self, config: crate::deflate::DeflateConfig) -> Self {
        self.deflate = Some(config);
        self
    }
}
