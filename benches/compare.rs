//! `cargo bench --bench compare`: wsmachine against tungstenite, fastwebsockets and
//! tokio-websockets on the same pre-built inputs, in one process, with `memcpy` of the same
//! bytes as the yardstick (issues 6 and 11). Every library reads its input through the same
//! in-memory socket in `--chunk`-byte reads and pays the copies its users pay: wsmachine reads
//! straight into its input buffer (`receive_buffer` + `commit_received`, the headline rows);
//! the "owned" variant reads into the room `receive_room` lends (uninitialised, as tokio's
//! `read_buf` fills it: the path of `wsmachine-tokio`) and takes owned messages; the "copy"
//! variant reads into a caller buffer and calls `receive(&[u8])`. Ratios are
//! wsmachine ÷ the fastest peer, run by run. Prints markdown tables and writes them to
//! `$WSM_BENCH_TABLE` (default `<target dir>/bench-table.md`).
//!
//! Options (after `--`), each also an environment variable:
//!
//! | option | env | default | |
//! |---|---|---|---|
//! | `--runs N` | `WSM_BENCH_RUNS` | 3 | runs per row; medians are reported |
//! | `--rounds N` | `WSM_BENCH_ROUNDS` | 5 | interleaved samples per library per run; the best counts |
//! | `--time-ms N` | `WSM_BENCH_TIME_MS` | 20 | minimum time of one sample |
//! | `--scale N` | `WSM_BENCH_SCALE` | 1 | divide message counts (quick or profiling runs) |
//! | `--libs a,b` | `WSM_BENCH_LIBS` | all | among wsmachine, wsmachine-owned, wsmachine-copy, tungstenite, fastwebsockets, tokio-websockets, memcpy |
//! | `--chunk N` | `WSM_BENCH_CHUNK` | 65536 | bytes per simulated socket read |
//! | `--out PATH` | `WSM_BENCH_TABLE` | see above | where the tables are written |
//! | `--no-checks` | `WSM_BENCH_NO_CHECKS=1` | checks on | skip the byte-by-byte check and the allocation count (for profiling) |
//! | other words | `WSM_BENCH_FILTER` | all rows | run rows whose name contains any of them (`=name`: equals) |
//!
//! For example `cargo bench --bench compare -- --runs 5 "16 B" idle`.

#[path = "compare/counting_alloc.rs"]
mod counting_alloc;
#[path = "compare/fws.rs"]
mod fws;
#[path = "compare/inputs.rs"]
mod inputs;
#[path = "compare/job.rs"]
mod job;
#[path = "compare/measure.rs"]
mod measure;
#[path = "compare/report.rs"]
mod report;
#[path = "compare/run.rs"]
mod run;
#[path = "compare/streams.rs"]
mod streams;
#[path = "compare/tung.rs"]
mod tung;
#[path = "compare/tws.rs"]
mod tws;
#[path = "compare/workloads.rs"]
mod workloads;
#[path = "compare/wsm.rs"]
mod wsm;

use run::{Lib, Settings};

/// When and where the tables were made, and by which command.
mod machine {
    /// The date and time, UTC (from `date`, which every CI machine has).
    pub(crate) fn date() -> String {
        std::process::Command::new("date")
            .args(["-u", "+%Y-%m-%d %H:%M UTC"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "date unknown".into())
    }

    /// Cores and CPU model (from /proc/cpuinfo on Linux).
    pub(crate) fn describe() -> String {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, m)| m.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        format!("{cores} cores (nproc), {model}")
    }

    /// The command that reproduces this run.
    pub(crate) fn command() -> String {
        let args: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| a != "--bench")
            .map(|a| if a.contains(' ') { format!("{a:?}") } else { a })
            .collect();
        if args.is_empty() {
            "cargo bench --bench compare".into()
        } else {
            format!("cargo bench --bench compare -- {}", args.join(" "))
        }
    }
}
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: counting_alloc::CountingAlloc = counting_alloc::CountingAlloc;

struct Args {
    settings: Settings,
    scale: usize,
    filters: Vec<String>,
    out: std::path::PathBuf,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}: cannot parse {v:?}")),
        Err(_) => default,
    }
}

fn parse_libs(list: &str) -> Vec<Lib> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| {
            *Lib::ALL
                .iter()
                .find(|l| l.name() == name)
                .unwrap_or_else(|| panic!("unknown library {name:?}"))
        })
        .collect()
}

fn parse_args() -> Args {
    let default_out = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| "target".into())
        .join("bench-table.md");
    let mut runs = env_or("WSM_BENCH_RUNS", 3usize);
    let mut rounds = env_or("WSM_BENCH_ROUNDS", 5usize);
    let mut time_ms = env_or("WSM_BENCH_TIME_MS", 20u64);
    let mut scale = env_or("WSM_BENCH_SCALE", 1usize);
    let mut chunk = env_or("WSM_BENCH_CHUNK", 64usize << 10);
    let mut libs = parse_libs(&std::env::var("WSM_BENCH_LIBS").unwrap_or_default());
    let mut out = std::env::var("WSM_BENCH_TABLE").map_or(default_out, Into::into);
    let mut filters: Vec<String> = std::env::var("WSM_BENCH_FILTER")
        .map(|f| vec![f])
        .unwrap_or_default();
    let mut checks = std::env::var("WSM_BENCH_NO_CHECKS").map_or(true, |v| v != "1");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().unwrap_or_else(|| panic!("{arg} needs {what}"));
        match arg.as_str() {
            // cargo passes `--bench` to every bench binary.
            "--bench" => {}
            "--runs" => runs = value("a count").parse().expect("--runs N"),
            "--rounds" => rounds = value("a count").parse().expect("--rounds N"),
            "--time-ms" => time_ms = value("milliseconds").parse().expect("--time-ms N"),
            "--scale" => scale = value("a divisor").parse().expect("--scale N"),
            "--chunk" => chunk = value("bytes").parse().expect("--chunk N"),
            "--libs" => libs = parse_libs(&value("a list")),
            "--out" => out = value("a path").into(),
            "--no-checks" => checks = false,
            flag if flag.starts_with("--") => panic!("unknown option {flag}"),
            word => filters.push(word.to_string()),
        }
    }
    if libs.is_empty() {
        libs = Lib::ALL.to_vec();
    }
    assert!(runs >= 1 && rounds >= 1 && chunk >= 1 && scale >= 1);
    Args {
        settings: Settings {
            runs,
            rounds,
            min_sample: Duration::from_millis(time_ms),
            chunk,
            libs,
            checks,
        },
        scale,
        filters,
        out,
    }
}

/// Whether a row is selected: its name contains a filter, or equals one written `=name`.
fn selected(filters: &[String], name: &str) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| match f.strip_prefix('=') {
            Some(exact) => name == exact,
            None => name.contains(f.as_str()),
        })
}

fn main() {
    let args = parse_args();
    let s = &args.settings;
    let rt = fws::runtime();
    let started = Instant::now();
    let mut rows = Vec::new();
    let all = workloads::all(args.scale);
    for w in all.iter().filter(|w| selected(&args.filters, w.name)) {
        eprint!("{} ... ", w.name);
        let t = Instant::now();
        let result = run::run(w, s, &rt);
        eprintln!("{:.1} s", t.elapsed().as_secs_f64());
        rows.push((w, result));
    }
    let idle = selected(&args.filters, "idle connection").then(|| run::idle(&rt));

    let mut md = String::new();
    md.push_str(&format!(
        "{}; {}; `{}`.\n\n",
        machine::date(),
        machine::describe(),
        machine::command(),
    ));
    md.push_str(&format!(
        "Medians of {} runs; a run keeps each library's best of {} interleaved samples (each \
         ≥ {} ms after a warm-up pass). Ratios are computed within each run: median (min–max). \
         Every library reads the input from the same in-memory socket in {} KiB reads: \
         **wsmachine** reads into its own input buffer (`receive_buffer` + \
         `commit_received`), then `poll_event_ref`; *owned* reads into the spare capacity of \
         the room `receive_room` lends (`commit_room`), then `poll_event`; *copy* \
         reads into a caller buffer, then `receive(&[u8])` and `poll_event_ref`. Peers: tungstenite 0.30, \
         fastwebsockets 0.10, tokio-websockets 0.13, each with its default configuration. \
         memcpy copies the whole input (or output) once into a preallocated buffer.\n\n",
        s.runs,
        s.rounds,
        s.min_sample.as_millis(),
        s.chunk >> 10,
    ));
    if !rows.is_empty() {
        md.push_str(&report::throughput_table(&rows));
        if s.checks {
            md.push_str(
                "\nAllocator calls (alloc + realloc) per message, connection setup included:\n\n",
            );
            md.push_str(&report::alloc_table(&rows));
        }
        md.push_str("\nInputs: ");
        let sizes: Vec<String> = rows
            .iter()
            .map(|(w, r)| {
                format!(
                    "{} × {} ({:.1} MB)",
                    w.name,
                    w.count(),
                    r.stream_bytes as f64 / 1e6
                )
            })
            .collect();
        md.push_str(&sizes.join("; "));
        md.push_str(".\n");
    }
    if let Some(idle) = &idle {
        md.push('\n');
        md.push_str(&report::idle_table(idle));
    }
    for (lib, api) in [
        (Lib::Wsmachine, "read into receive_buffer + poll_event_ref"),
        (Lib::WsmachineOwned, "read into receive_room + poll_event"),
        (Lib::WsmachineCopy, "read + receive(&[u8]) + poll_event_ref"),
    ] {
        let missed: Vec<&str> = rows
            .iter()
            .filter(|(w, r)| report::met(w, r, lib) == Some(false))
            .map(|(w, _)| w.name)
            .collect();
        let list = if missed.is_empty() {
            "none".to_string()
        } else {
            missed.join(", ")
        };
        md.push_str(&format!(
            "\nRows missing their target (÷ fastest peer) with {api}: {list}.\n"
        ));
    }
    println!("{md}");
    if let Some(dir) = args.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&args.out, &md) {
        Ok(()) => eprintln!("table written to {}", args.out.display()),
        Err(e) => eprintln!("could not write {}: {e}", args.out.display()),
    }
    eprintln!("total {:.1} s", started.elapsed().as_secs_f64());
}
