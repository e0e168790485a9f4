//! The markdown tables: throughput with ratios computed run by run, allocations per message,
//! and the idle connection.

use crate::measure::{median, range};
use crate::run::{Idle, Lib, RowResult};
use crate::workloads::{Unit, Workload};
use std::fmt::Write;

/// Throughput of `secs` per pass for `w`, in its unit.
fn throughput(w: &Workload, secs: f64) -> f64 {
    match w.unit {
        Unit::Messages => w.count() as f64 / secs,
        Unit::Bytes => (w.count() * w.len()) as f64 / secs,
    }
}

fn fmt_throughput(w: &Workload, value: f64) -> String {
    if value.is_nan() {
        return "–".into();
    }
    match w.unit {
        Unit::Messages if value >= 1e6 => format!("{:.1} M msg/s", value / 1e6),
        Unit::Messages => format!("{:.0} k msg/s", value / 1e3),
        Unit::Bytes if value >= 1e9 => format!("{:.2} GB/s", value / 1e9),
        Unit::Bytes => format!("{:.0} MB/s", value / 1e6),
    }
}

/// Per-run speed-ups of `ws` (a wsmachine variant) over `other`: time of `other` / time of `ws`.
fn ratios(r: &RowResult, ws: Lib, other: Lib) -> Vec<f64> {
    let ws = &r.secs[ws.index()];
    let them = &r.secs[other.index()];
    ws.iter().zip(them).map(|(w, t)| t / w).collect()
}

fn fmt_ratio(values: &[f64]) -> String {
    let m = median(values);
    if m.is_nan() {
        return "–".into();
    }
    if values.len() < 2 {
        return format!("{m:.2}×");
    }
    let (lo, hi) = range(values);
    format!("{m:.2}× ({lo:.2}–{hi:.2})")
}

/// Whether the median ratios of `ws` meet the row's target; `None` when it or a needed peer
/// was not run.
pub fn met(w: &Workload, r: &RowResult, ws: Lib) -> Option<bool> {
    let mut ok = true;
    for (lib, min) in [
        (Lib::Tungstenite, w.target.vs_tungstenite),
        (Lib::Fastwebsockets, w.target.vs_fastwebsockets),
    ] {
        if min > 0.0 {
            let m = median(&ratios(r, ws, lib));
            if m.is_nan() {
                return None;
            }
            ok &= m >= min;
        }
    }
    Some(ok)
}

pub fn throughput_table(rows: &[(&Workload, RowResult)]) -> String {
    let mut out = String::new();
    out.push_str(
        "| workload | wsmachine | wsmachine (ref) | tungstenite | fastwebsockets | memcpy \
         | ws ÷ tungstenite | ws ÷ fastwebsockets | ws ÷ memcpy | ref ÷ tung, fws \
         | target | met? (event, ref) |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n",
    );
    for (w, r) in rows {
        let cell = |lib: Lib| {
            let per_run: Vec<f64> = r.secs[lib.index()]
                .iter()
                .map(|&s| throughput(w, s))
                .collect();
            fmt_throughput(w, median(&per_run))
        };
        let verdict = |lib| match met(w, r, lib) {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        let ref_vs = |other| {
            let m = median(&ratios(r, Lib::WsmachineRef, other));
            if m.is_nan() {
                "–".to_string()
            } else {
                format!("{m:.2}×")
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {}, {} | {} | {}, {} |",
            w.name,
            cell(Lib::Wsmachine),
            cell(Lib::WsmachineRef),
            cell(Lib::Tungstenite),
            cell(Lib::Fastwebsockets),
            cell(Lib::Memcpy),
            fmt_ratio(&ratios(r, Lib::Wsmachine, Lib::Tungstenite)),
            fmt_ratio(&ratios(r, Lib::Wsmachine, Lib::Fastwebsockets)),
            fmt_ratio(&ratios(r, Lib::Wsmachine, Lib::Memcpy)),
            ref_vs(Lib::Tungstenite),
            ref_vs(Lib::Fastwebsockets),
            w.target.text,
            verdict(Lib::Wsmachine),
            verdict(Lib::WsmachineRef),
        );
    }
    out
}

pub fn alloc_table(rows: &[(&Workload, RowResult)]) -> String {
    let mut out = String::from(
        "| workload | wsmachine | wsmachine (ref) | tungstenite | fastwebsockets |\n\
         |---|--:|--:|--:|--:|\n",
    );
    let fmt = |v: Option<f64>| match v {
        None => "–".to_string(),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    };
    for (w, r) in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            w.name,
            fmt(r.allocs_per_msg[Lib::Wsmachine.index()]),
            fmt(r.allocs_per_msg[Lib::WsmachineRef.index()]),
            fmt(r.allocs_per_msg[Lib::Tungstenite.index()]),
            fmt(r.allocs_per_msg[Lib::Fastwebsockets.index()]),
        );
    }
    out
}

pub fn idle_table(idle: &Idle) -> String {
    let mut out = String::from(
        "| idle connection | wsmachine | tungstenite | fastwebsockets | target | met? |\n\
         |---|--:|--:|--:|---|---|\n",
    );
    let bytes = |b: &[i64; 3]| b.map(|v| format!("{v} B"));
    let [a, b, c] = bytes(&idle.fresh);
    let ok = if idle.fresh[0] == 0 { "yes" } else { "**no**" };
    let _ = writeln!(out, "| heap held, fresh | {a} | {b} | {c} | 0 B | {ok} |");
    let [a, b, c] = bytes(&idle.after_message);
    let ok = if idle.after_message[0] == 0 {
        "yes"
    } else {
        "**no**"
    };
    let _ = writeln!(
        out,
        "| heap held after one 1 KiB message | {a} | {b} | {c} | 0 B | {ok} |"
    );
    let [a, b, c] = idle.size_of.map(|v| format!("{v} B"));
    let ok = if idle.size_of[0] <= 128 {
        "yes"
    } else {
        "**no**"
    };
    let _ = writeln!(
        out,
        "| `size_of` of the connection (without transport) | {a} | {b} | {c} | ≤ 128 B | {ok} |"
    );
    let [a, b, c] = idle.event_size.map(|v| format!("{v} B"));
    let _ = writeln!(
        out,
        "| `size_of` of one read's result (`Option<Event>` / `Option<EventRef>`, \
         `Result<Message>`, `Frame`) | {a} / {} B | {b} | {c} | – | – |",
        idle.event_ref_size
    );
    out
}
