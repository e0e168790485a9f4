//! What one pass of a workload is: the inputs handed to a library and the tally it must
//! return, so every row can assert that the library really did the work.

use crate::inputs::Kind;
use bytes::Bytes;

/// Server-side decoding: `stream` holds `count` masked messages of `plaintext`.
pub(crate) struct DecodeJob<'a> {
    pub kind: Kind,
    pub stream: &'a [u8],
    pub plaintext: &'a [u8],
    pub count: usize,
    /// Bytes per read from the "socket".
    pub chunk: usize,
    /// Whether the message arrives in several frames (peers with a separate reassembly layer
    /// use it only then).
    pub fragmented: bool,
}

/// Client-side encoding: `count` binary messages of `payload`, masked.
pub(crate) struct EncodeJob<'a> {
    pub payload: &'a [u8],
    /// The same payload as the owned handle tungstenite's `Message` takes (cloning it is a
    /// reference-count increment, as for an application that already holds `Bytes`).
    pub payload_bytes: Bytes,
    pub count: usize,
}

/// What a library delivered during a decode pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub messages: u64,
    pub bytes: u64,
    /// A cheap fingerprint of each message (length, first and last byte), summed.
    pub check: u64,
}

impl Tally {
    /// Counts one delivered message; with `full`, compares every byte with the plaintext.
    #[inline]
    pub(crate) fn add(
        &mut self,
        kind: Kind,
        got: Kind,
        msg: &[u8],
        job: &DecodeJob<'_>,
        full: bool,
    ) {
        assert_eq!(got, kind, "message of the wrong kind");
        if full {
            assert!(
                msg == job.plaintext,
                "message #{} differs from what was sent",
                self.messages
            );
        }
        self.messages += 1;
        self.bytes += msg.len() as u64;
        self.check = self.check.wrapping_add(fingerprint(msg));
    }

    /// What a pass over `job` must deliver.
    pub(crate) fn expected(job: &DecodeJob<'_>) -> Self {
        let n = job.count as u64;
        Self {
            messages: n,
            bytes: n * job.plaintext.len() as u64,
            check: fingerprint(job.plaintext).wrapping_mul(n),
        }
    }
}

fn fingerprint(msg: &[u8]) -> u64 {
    let first = msg.first().copied().unwrap_or(0) as u64;
    let last = msg.last().copied().unwrap_or(0) as u64;
    (msg.len() as u64) ^ (first << 40) ^ (last << 48)
}
