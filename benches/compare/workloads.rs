//! The rows of the comparison (issues 6 and 11): what each one feeds the libraries and the
//! ratio wsmachine must reach against the fastest of the peers.

use crate::inputs::Kind;

/// What a row measures.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    /// A server decodes `count` masked messages of `len` bytes, each in frames of at most
    /// `fragment` bytes (one frame when `None`).
    Decode {
        kind: Kind,
        len: usize,
        count: usize,
        fragment: Option<usize>,
    },
    /// A client encodes `count` masked binary messages of `len` bytes.
    Encode { len: usize, count: usize },
}

/// How a row's throughput reads best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Messages per second (small messages, where per-message cost dominates).
    Messages,
    /// Payload bytes per second.
    Bytes,
}

/// The minimum speed-up over the fastest peer in the same run (issue 11), and over `memcpy`
/// of the same bytes (0 when the row sets none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub vs_fastest: f64,
    pub vs_memcpy: f64,
    /// The target as the issue words it.
    pub text: &'static str,
}

pub(crate) struct Workload {
    pub name: &'static str,
    pub op: Op,
    pub unit: Unit,
    pub target: Target,
}

impl Workload {
    /// Messages per pass.
    pub(crate) fn count(&self) -> usize {
        match self.op {
            Op::Decode { count, .. } | Op::Encode { count, .. } => count,
        }
    }

    /// Payload bytes per message.
    pub(crate) fn len(&self) -> usize {
        match self.op {
            Op::Decode { len, .. } | Op::Encode { len, .. } => len,
        }
    }
}

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// Every row, with message counts chosen so that each pass moves about 32 MiB (beyond the
/// caches, as a busy server's input is), divided by `scale` for quick or profiling runs.
pub(crate) fn all(scale: usize) -> Vec<Workload> {
    let n = |count: usize| (count / scale.max(1)).max(4);
    let decode = |kind, len, count, fragment| Op::Decode {
        kind,
        len,
        count: n(count),
        fragment,
    };
    let t = |vs_fastest, text| Target {
        vs_fastest,
        vs_memcpy: 0.0,
        text,
    };
    use Kind::{Binary, Text};
    use Unit::{Bytes, Messages};
    vec![
        Workload {
            name: "decode binary 16 B",
            op: decode(Binary, 16, MIB, None),
            unit: Messages,
            target: t(3.0, "≥ 3× fastest"),
        },
        Workload {
            name: "decode binary 125 B",
            op: decode(Binary, 125, 256 * KIB, None),
            unit: Messages,
            target: t(3.0, "≥ 3× fastest"),
        },
        Workload {
            name: "decode binary 1 KiB",
            op: decode(Binary, KIB, 32 * KIB, None),
            unit: Messages,
            target: t(1.5, "≥ 1.5× fastest"),
        },
        Workload {
            name: "decode binary 16 KiB",
            op: decode(Binary, 16 * KIB, 2 * KIB, None),
            unit: Bytes,
            target: t(1.2, "≥ 1.2× fastest"),
        },
        Workload {
            name: "decode binary 1 MiB",
            op: decode(Binary, MIB, 32, None),
            unit: Bytes,
            target: Target {
                vs_fastest: 1.2,
                vs_memcpy: 1.5,
                text: "≥ 1.2× fastest, ≥ 1.5× memcpy",
            },
        },
        Workload {
            name: "decode text 1 KiB",
            op: decode(Text, KIB, 32 * KIB, None),
            unit: Messages,
            target: t(1.3, "≥ 1.3× fastest"),
        },
        Workload {
            name: "decode text 1 MiB",
            op: decode(Text, MIB, 32, None),
            unit: Bytes,
            target: t(1.3, "≥ 1.3× fastest"),
        },
        Workload {
            name: "decode text 1 MiB in 1 KiB fragments",
            op: decode(Text, MIB, 32, Some(KIB)),
            unit: Bytes,
            target: t(1.3, "≥ 1.3× fastest"),
        },
        Workload {
            name: "decode binary 1 MiB in 1 KiB fragments",
            op: decode(Binary, MIB, 32, Some(KIB)),
            unit: Bytes,
            target: t(1.3, "≥ 1.3× fastest"),
        },
        Workload {
            name: "encode binary 16 B",
            op: Op::Encode {
                len: 16,
                count: n(MIB),
            },
            unit: Messages,
            target: t(4.0, "≥ 4× fastest"),
        },
        Workload {
            name: "encode binary 64 KiB",
            op: Op::Encode {
                len: 64 * KIB,
                count: n(512),
            },
            unit: Bytes,
            target: t(1.3, "≥ 1.3× fastest"),
        },
    ]
}
