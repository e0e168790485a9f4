//! The official Autobahn TestSuite (`wstest` 0.8.2) against the programs: its
//! fuzzingclient against `examples/echo_server` (permessage-deflate accepted), against
//! `c-examples`' echo server and against `wsmachine-tokio`'s `tokio_echo_server`, and its
//! fuzzingserver for `examples/autobahn_client`. Every
//! case's `behavior` and `behaviorClose` in the suite's `index.json` must be what
//! `autobahn/expected.txt` says; a case that differs, is missing or is unknown fails the test
//! and is named.
//!
//! Ignored by a plain `cargo test` (minutes of CPU); `.ci/test` runs them:
//!
//! ```text
//! cargo test --all-features --test autobahn -- --ignored --nocapture            # CI's cases
//! WSM_AUTOBAHN_CASES=all cargo test --all-features --test autobahn -- --ignored --nocapture
//! ```
//!
//! * `WSM_AUTOBAHN_CASES`: `ci` (the default: sections 1 to 10, plus 12.1 and 13.1 for
//!   compression, which take about an hour per program in full; the tokio echo server gets
//!   sections 1 to 10), `all` (every case), or
//!   a comma-separated list of the suite's case patterns (`5.*,7.1.6`).
//! * `wstest` is `$WSTEST`, else the one in the virtualenv `.ci/run` makes
//!   (`$WSM_AUTOBAHN_VENV`, by default `~/.cache/wsmachine/autobahn-venv`), else the one on
//!   `PATH`. Without it each test prints SKIP, and fails under `CI=true`.
//! * The reports (HTML and JSON) stay in `target/autobahn/<program>/`.
//!
//! Configurations: `autobahn/fuzzingclient.json` and `autobahn/fuzzingserver.json`, the
//! same files a by-hand run uses; this runner only points them at a free port, its own
//! report folder and the chosen cases.

// Public, so that what it offers and this file leaves unused is not dead code.
pub mod support {
    pub mod process;
    pub mod programs;
    pub mod servers;
    pub mod skip;
}

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::process::{describe, run_with_timeout, KillOnDrop};
use support::programs::{c_programs, manifest_dir, target_root};
use support::servers::{RustEchoServer, Server};
use support::skip::skip;

/// The cases CI runs: everything but the compression sections in full (see the module docs).
const CI_CASES: &[&str] = &[
    "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "8.*", "9.*", "10.*", "12.1.*", "13.1.*",
];

/// The five verdicts of the suite, in the order its report lists them.
const VERDICTS: [&str; 5] = [
    "OK",
    "NON-STRICT",
    "INFORMATIONAL",
    "UNIMPLEMENTED",
    "FAILED",
];

/// The chosen case patterns (`WSM_AUTOBAHN_CASES`).
fn case_patterns() -> Vec<String> {
    case_patterns_or(CI_CASES)
}

/// The chosen case patterns, with `ci` meaning `ci_cases`.
fn case_patterns_or(ci_cases: &[&str]) -> Vec<String> {
    match std::env::var("WSM_AUTOBAHN_CASES").as_deref() {
        Err(_) | Ok("") | Ok("ci") => ci_cases.iter().map(|p| p.to_string()).collect(),
        Ok("all") => vec!["*".to_string()],
        Ok(list) => list.split(',').map(|p| p.trim().to_string()).collect(),
    }
}

/// Whether a case id such as `12.1.3` matches a pattern of the suite's (`*` is any run of
/// characters, everything else is literal, as in its `fnmatch`).
fn matches(pattern: &str, case: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == case,
        Some((head, rest)) => {
            let Some(tail) = case.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| matches(rest, &tail[i..]))
        }
    }
}

/// One case's verdicts: `behavior` (the exchange) and `behaviorClose` (the closing).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    behavior: String,
    close: String,
}

/// `autobahn/expected.txt`: every case of the suite with the verdicts it must get.
fn expectations() -> BTreeMap<CaseId, Verdict> {
    let path = manifest_dir().join("autobahn/expected.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut cases = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [case, behavior, close] = fields[..] else {
            panic!("{path:?} line {}: want CASE BEHAVIOR BEHAVIOR_CLOSE", n + 1);
        };
        for verdict in [behavior, close] {
            assert!(
                VERDICTS.contains(&verdict),
                "{path:?} line {}: unknown verdict {verdict}",
                n + 1
            );
        }
        let verdict = Verdict {
            behavior: behavior.to_string(),
            close: close.to_string(),
        };
        assert!(
            cases.insert(CaseId::parse(case), verdict).is_none(),
            "{path:?}: case {case} twice"
        );
    }
    cases
}

/// A case id ordered the way the suite numbers them (`9.2.10` after `9.2.9`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CaseId(Vec<u32>);

impl CaseId {
    fn parse(id: &str) -> CaseId {
        CaseId(
            id.split('.')
                .map(|n| n.parse().unwrap_or_else(|_| panic!("bad case id {id:?}")))
                .collect(),
        )
    }
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

/// The `wstest` to run, or why there is none.
fn wstest() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("WSTEST") {
        return Ok(PathBuf::from(path));
    }
    let venv = std::env::var_os("WSM_AUTOBAHN_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| Path::new(&home).join(".cache/wsmachine/autobahn-venv"))
        });
    if let Some(candidate) = venv.map(|v| v.join("bin/wstest")) {
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    match Command::new("wstest")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(PathBuf::from("wstest")),
        Err(_) => Err("wstest (the Autobahn TestSuite) is not installed: see .ci/run".into()),
    }
}

/// The release build of a Rust example the suite runs against (its 16 MiB messages and
/// compression sections are far too slow for debug builds).
fn rust_example_release(name: &str) -> PathBuf {
    let package = if name.starts_with("tokio_") {
        "wsmachine-tokio"
    } else {
        "wsmachine"
    };
    support::programs::rust_example_release(package, name)
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// A committed configuration from `autobahn/`, pointed at `url`, with its reports in
/// `outdir` and the chosen cases; written beside the reports for `wstest -s`.
fn spec(config: &str, url: &str, outdir: &Path, patterns: &[String]) -> PathBuf {
    let path = manifest_dir().join("autobahn").join(config);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut spec: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    spec["outdir"] = outdir.to_string_lossy().into();
    spec["cases"] = patterns.into();
    if let Some(servers) = spec.get_mut("servers").and_then(Value::as_array_mut) {
        for server in servers {
            server["url"] = url.into();
        }
    } else {
        spec["url"] = url.into();
    }
    let _ = std::fs::remove_dir_all(outdir);
    std::fs::create_dir_all(outdir).unwrap();
    let written = outdir.join(config);
    std::fs::write(&written, serde_json::to_string_pretty(&spec).unwrap()).unwrap();
    written
}

/// The folder of one program's reports.
fn report_dir(program: &str) -> PathBuf {
    target_root().join("autobahn").join(program)
}

/// How long one run of the suite may take: the compression sections are slow.
fn suite_timeout(patterns: &[String]) -> Duration {
    let all = patterns.iter().any(|p| p == "*");
    Duration::from_secs(if all { 3 * 3600 } else { 3600 })
}

/// Reads `index.json` for `agent`, compares every case with the expectations and prints the
/// summary; panics naming every case that differs.
fn judge(program: &str, agent: &str, outdir: &Path, patterns: &[String], elapsed: Duration) {
    let path = outdir.join("index.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{program}: no report {path:?}: {e}"));
    let index: Value = serde_json::from_str(&text).unwrap();
    let cases = index[agent]
        .as_object()
        .unwrap_or_else(|| panic!("{program}: no agent {agent:?} in {path:?}"));
    let expected: BTreeMap<CaseId, Verdict> = expectations()
        .into_iter()
        .filter(|(id, _)| patterns.iter().any(|p| matches(p, &id.to_string())))
        .collect();
    let mut got = BTreeMap::new();
    for (id, result) in cases {
        let verdict = |key: &str| result[key].as_str().unwrap_or("(none)").to_string();
        let verdict = Verdict {
            behavior: verdict("behavior"),
            close: verdict("behaviorClose"),
        };
        got.insert(CaseId::parse(id), verdict);
    }

    let mut counts = BTreeMap::new();
    for verdict in got.values() {
        *counts.entry(verdict.behavior.as_str()).or_insert(0usize) += 1;
    }
    let summary: Vec<String> = VERDICTS
        .iter()
        .map(|v| format!("{v} {}", counts.get(v).copied().unwrap_or(0)))
        .collect();
    println!(
        "autobahn {program}: {} cases in {} s: {} (reports: {})",
        got.len(),
        elapsed.as_secs(),
        summary.join(", "),
        outdir.join("index.html").display()
    );

    let mut wrong = Vec::new();
    for (id, want) in &expected {
        match got.get(id) {
            None => wrong.push(format!("case {id}: missing from the report")),
            Some(have) if have != want => wrong.push(format!(
                "case {id}: behavior {} / close {}, expected {} / {}",
                have.behavior, have.close, want.behavior, want.close
            )),
            Some(_) => {}
        }
    }
    for id in got.keys().filter(|id| !expected.contains_key(id)) {
        wrong.push(format!(
            "case {id}: not in autobahn/expected.txt for these patterns"
        ));
    }
    assert!(
        wrong.is_empty(),
        "autobahn {program}: {} of {} cases are not as expected (reports: {}):\n{}",
        wrong.len(),
        expected.len(),
        outdir.display(),
        wrong.join("\n")
    );
    assert!(!expected.is_empty(), "no case matches {patterns:?}");
}

/// The suite's fuzzingclient against a server on `port`, for the cases `patterns` select.
fn fuzzingclient(program: &str, wstest: &Path, port: u16, patterns: &[String]) {
    let outdir = report_dir(program);
    let url = format!("ws://127.0.0.1:{port}");
    let spec = spec("fuzzingclient.json", &url, &outdir, patterns);
    let started = Instant::now();
    let out = run_with_timeout(
        Command::new(wstest)
            .args(["-m", "fuzzingclient", "-s"])
            .arg(&spec)
            .current_dir(&outdir),
        suite_timeout(patterns),
    );
    assert!(out.status.success(), "wstest: {}", describe(&out));
    judge(program, "wsmachine", &outdir, patterns, started.elapsed());
}

#[test]
#[ignore = "the Autobahn TestSuite takes minutes: .ci/test runs it with --ignored"]
fn fuzzingclient_against_the_rust_echo_server() {
    let wstest = match wstest() {
        Ok(w) => w,
        Err(why) => return skip(&why),
    };
    let server = RustEchoServer::start_program(rust_example_release("echo_server"));
    fuzzingclient("rust-echo-server", &wstest, server.port, &case_patterns());
}

#[test]
#[ignore = "the Autobahn TestSuite takes minutes: .ci/test runs it with --ignored"]
fn fuzzingclient_against_the_tokio_echo_server() {
    let wstest = match wstest() {
        Ok(w) => w,
        Err(why) => return skip(&why),
    };
    let server = RustEchoServer::start_program(rust_example_release("tokio_echo_server"));
    // The engine under it is the Rust echo server's: CI runs sections 1 to 10 (the
    // adapter's reading, writing, timers and closing), compression with the others.
    let patterns = case_patterns_or(&CI_CASES[..10]);
    fuzzingclient("tokio-echo-server", &wstest, server.port, &patterns);
}

#[test]
#[ignore = "the Autobahn TestSuite takes minutes: .ci/test runs it with --ignored"]
fn fuzzingclient_against_the_c_echo_server() {
    let wstest = match wstest() {
        Ok(w) => w,
        Err(why) => return skip(&why),
    };
    let mut cmd = Command::new(c_programs(false).join("echo_server"));
    cmd.arg("0");
    let server = Server::start(cmd, "echo_server-autobahn");
    fuzzingclient("c-echo-server", &wstest, server.port, &case_patterns());
    let (status, stderr) = server.stop();
    assert!(status.success(), "the C echo server: {status}\n{stderr}");
}

#[test]
#[ignore = "the Autobahn TestSuite takes minutes: .ci/test runs it with --ignored"]
fn fuzzingserver_for_the_rust_client() {
    let wstest = match wstest() {
        Ok(w) => w,
        Err(why) => return skip(&why),
    };
    let client = rust_example_release("autobahn_client");
    let program = "rust-client";
    let outdir = report_dir(program);
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let patterns = case_patterns();
    let spec = spec("fuzzingserver.json", &url, &outdir, &patterns);
    let log = std::fs::File::create(outdir.join("wstest.log")).unwrap();
    let mut suite = KillOnDrop(
        Command::new(&wstest)
            // No embedded web server: its fixed port 8080 would collide with anything there.
            .args(["-m", "fuzzingserver", "--webport", "0", "-s"])
            .arg(&spec)
            .current_dir(&outdir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {wstest:?}: {e}")),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = suite.try_wait().unwrap();
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "the fuzzingserver did not start ({exited:?}):\n{}",
            std::fs::read_to_string(outdir.join("wstest.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let started = Instant::now();
    let out = run_with_timeout(
        Command::new(client).args([url.as_str(), "wsmachine"]),
        suite_timeout(&patterns),
    );
    assert!(out.status.success(), "autobahn_client: {}", describe(&out));
    // The client's last request, /updateReports, has the suite write index.json.
    judge(program, "wsmachine", &outdir, &patterns, started.elapsed());
    let _ = suite.kill();
}

#[test]
fn case_patterns_match_as_the_suite_does() {
    assert!(matches("*", "1.1.1"));
    assert!(matches("1.*", "1.1.1"));
    assert!(!matches("1.*", "10.1.1"));
    assert!(matches("12.1.*", "12.1.18"));
    assert!(!matches("12.1.*", "12.10.1"));
    assert!(matches("7.1.6", "7.1.6"));
    assert!(!matches("7.1.6", "7.1.60"));
    assert!(matches("9.*.1", "9.8.1"));
    assert!(CaseId::parse("9.2.10") > CaseId::parse("9.2.9"));
    assert_eq!(CaseId::parse("13.7.18").to_string(), "13.7.18");
}

#[test]
fn expectations_cover_the_whole_suite() {
    let cases = expectations();
    // wstest 0.8.2 has 517 cases; every one is OK but for three it calls INFORMATIONAL.
    assert_eq!(cases.len(), 517);
    let informational: Vec<String> = cases
        .iter()
        .filter(|(_, v)| v.behavior != "OK")
        .map(|(id, v)| format!("{id} {}", v.behavior))
        .collect();
    assert_eq!(
        informational,
        [
            "7.1.6 INFORMATIONAL",
            "7.13.1 INFORMATIONAL",
            "7.13.2 INFORMATIONAL"
        ]
    );
}
