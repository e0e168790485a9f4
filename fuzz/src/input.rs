//! How a fuzz input is laid out for the structured targets:
//!
//! ```text
//! [script length: u16 big-endian][script: `arbitrary` bytes][wire: raw peer bytes]
//! ```
//!
//! The script drives `arbitrary` (configuration and operations); the wire is literal bytes
//! a peer sent, consumed in order by the receive operations. Keeping the wire literal lets
//! seed corpora hold real frames and handshakes byte for byte (`\0\0` + the bytes is an
//! input with an empty script), and lets libFuzzer's dictionary splice tokens into it.

/// A fuzz input split into its script and its wire bytes.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub script: &'a [u8],
    pub wire: &'a [u8],
}

impl<'a> Input<'a> {
    /// Splits `data`; a script length past the end takes everything.
    pub fn split(data: &'a [u8]) -> Self {
        if data.len() < 2 {
            return Self {
                script: &[],
                wire: data,
            };
        }
        let n = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let rest = &data[2..];
        let n = n.min(rest.len());
        Self {
            script: &rest[..n],
            wire: &rest[n..],
        }
    }

    /// Builds an input from its parts (for seed generators and regression tests).
    pub fn join(script: &[u8], wire: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(2 + script.len() + wire.len());
        v.extend_from_slice(&(script.len() as u16).to_be_bytes());
        v.extend_from_slice(script);
        v.extend_from_slice(wire);
        v
    }
}

/// Cuts `len` bytes at fuzzer-chosen points: each point is taken modulo `len + 1`, sorted
/// and deduplicated. Returns the piece boundaries, `0` and `len` included.
pub fn cuts(len: usize, points: &[u16]) -> Vec<usize> {
    let mut v: Vec<usize> = points.iter().map(|&p| usize::from(p) % (len + 1)).collect();
    v.push(0);
    v.push(len);
    v.sort_unstable();
    v.dedup();
    v
}
