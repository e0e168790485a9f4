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

/// Per-run speed-ups of `ws` over the fastest peer of the same run; empty when no peer ran.
pub(crate) fn vs_fastest(r: &RowResult, ws: Lib) -> Vec<f64> {
    let ran: Vec<&Vec<f64>> = Lib::PEERS
        .iter()
        .map(|p| &r.secs[p.index()])
        .filter(|v| !v.is_empty())
        .collect();
    if ran.is_empty() {
        return Vec::new();
    }
    r.secs[ws.index()]
        .iter()
        .enumerate()
        .map(|(run, w)| {
            let fastest = ran.iter().map(|v| v[run]).fold(f64::INFINITY, f64::min);
            fastest / w
        })
        .collect()
}

/// The peer with the shortest median time on the row.
fn fastest_peer(r: &RowResult) -> &'static str {
    Lib::PEERS
        .iter()
        .filter(|p| !r.secs[p.index()].is_empty())
        .min_by(|a, b| median(&r.secs[a.index()]).total_cmp(&median(&r.secs[b.index()])))
        .map_or("–", |p| p.name())
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

/// Whether the median ratios of `ws` meet the row's target; `None` when it or a needed
/// yardstick was not run.
pub(crate) fn met(w: &Workload, r: &RowResult, ws: Lib) -> Option<bool> {
    let fastest = median(&vs_fastest(r, ws));
    if fastest.is_nan() {
        return None;
    }
    let mut ok = fastest >= w.target.vs_fastest;
    if w.target.vs_memcpy > 0.0 {
        let m = median(&ratios(r, ws, Lib::Memcpy));
        if m.is_nan() {
            return None;
        }
        ok &= m >= w.target.vs_memcpy;
    }
    Some(ok)
}

pub(crate) fn throughput_table(rows: &[(&Workload, RowResult)]) -> String {
    let mut out = String::new();
    out.push_str(
        "| workload | **wsmachine** | wsmachine owned | wsmachine copy | tungstenite \
         | fastwebsockets | tokio-websockets | memcpy | ws ÷ tung | ws ÷ fws | ws ÷ tokio-ws \
         | **ws ÷ fastest peer** | owned ÷ fastest | copy ÷ fastest | ws ÷ memcpy \
         | fastest peer | target | met? (ws, owned, copy) |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|---|\n",
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
        let ws = Lib::Wsmachine;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | **{}** | {} | {} | {} | {} | {} | {}, {}, {} |",
            w.name,
            cell(ws),
            cell(Lib::WsmachineOwned),
            cell(Lib::WsmachineCopy),
            cell(Lib::Tungstenite),
            cell(Lib::Fastwebsockets),
            cell(Lib::TokioWebsockets),
            cell(Lib::Memcpy),
            fmt_ratio(&ratios(r, ws, Lib::Tungstenite)),
            fmt_ratio(&ratios(r, ws, Lib::Fastwebsockets)),
            fmt_ratio(&ratios(r, ws, Lib::TokioWebsockets)),
            fmt_ratio(&vs_fastest(r, ws)),
            fmt_ratio(&vs_fastest(r, Lib::WsmachineOwned)),
            fmt_ratio(&vs_fastest(r, Lib::WsmachineCopy)),
            fmt_ratio(&ratios(r, ws, Lib::Memcpy)),
            fastest_peer(r),
            w.target.text,
            verdict(ws),
            verdict(Lib::WsmachineOwned),
            verdict(Lib::WsmachineCopy),
        );
    }
    out
}

pub(crate) fn alloc_table(rows: &[(&Workload, RowResult)]) -> String {
    let libs = [
        Lib::Wsmachine,
        Lib::WsmachineOwned,
        Lib::WsmachineCopy,
        Lib::Tungstenite,
        Lib::Fastwebsockets,
        Lib::TokioWebsockets,
    ];
    let mut out = String::from("| workload |");
    for lib in libs {
        let _ = write!(out, " {} |", lib.name());
    }
    out.push_str("\n|---|");
    out.push_str(&"--:|".repeat(libs.len()));
    out.push('\n');
    let fmt = |v: Option<f64>| match v {
        None => "–".to_string(),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    };
    for (w, r) in rows {
        let _ = write!(out, "| {} |", w.name);
        for lib in libs {
            let _ = write!(out, " {} |", fmt(r.allocs_per_msg[lib.index()]));
        }
        out.push('\n');
    }
    out
}

pub(crate) fn idle_table(idle: &Idle) -> String {
    let mut out = String::from(
        "| idle connection | wsmachine | tungstenite | fastwebsockets | tokio-websockets | target | met? |\n\
         |---|--:|--:|--:|--:|---|---|\n",
    );
    let bytes = |b: &[i64; 4]| b.map(|v| format!("{v} B"));
    let [a, b, c, d] = bytes(&idle.fresh);
    let ok = if idle.fresh[0] == 0 { "yes" } else { "**no**" };
    let _ = writeln!(
        out,
        "| heap held, fresh | {a} | {b} | {c} | {d} | 0 B | {ok} |"
    );
    let [a, b, c, d] = bytes(&idle.after_message);
    let ok = if idle.after_message[0] == 0 {
        "yes"
    } else {
        "**no**"
    };
    let _ = writeln!(
        out,
        "| heap held after one 1 KiB message | {a} | {b} | {c} | {d} | 0 B | {ok} |"
    );
    let [a, b, c, d] = idle.size_of.map(|v| format!("{v} B"));
    let ok = if idle.size_of[0] <= 192 {
        "yes"
    } else {
        "**no**"
    };
    let _ = writeln!(
        out,
        "| `size_of` of the connection (without transport) | {a} | {b} | {c} | {d} | ≤ 192 B | {ok} |"
    );
    let [a, b, c, d] = idle.event_size.map(|v| format!("{v} B"));
    let _ = writeln!(
        out,
        "| `size_of` of one read's result (`Option<Event>` / `Option<EventRef>`, \
         `Result<Message>`, `Frame`, `Option<Result<Message>>`) | {a} / {} B | {b} | {c} | {d} | – | – |",
        idle.event_ref_size
    );
    out
}
