//! A deterministic random source for clients, so that twin connections (and a replayed
//! crash) produce the same masking keys and the same `Sec-WebSocket-Key`.

use wsmachine::RandomSource;

/// The first 16 bytes it gives are `nonce` (the client's key), then an xorshift stream.
#[derive(Debug, Clone)]
pub struct Deterministic {
    nonce: Option<[u8; 16]>,
    state: u64,
}

/// RFC 6455 §1.3's sample nonce: its key is `dGhlIHNhbXBsZSBub25jZQ==`.
pub const RFC_NONCE: [u8; 16] = *b"the sample nonce";

impl Deterministic {
    pub fn new(nonce: [u8; 16], seed: u64) -> Self {
        Self {
            nonce: Some(nonce),
            state: seed | 1,
        }
    }
}

impl RandomSource for Deterministic {
    fn fill(&mut self, buf: &mut [u8]) {
        let mut rest = buf;
        if let Some(nonce) = self.nonce.take() {
            let n = rest.len().min(16);
            rest[..n].copy_from_slice(&nonce[..n]);
            rest = &mut rest[n..];
        }
        for b in rest.iter_mut() {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = (self.state >> 24) as u8;
        }
    }
}
