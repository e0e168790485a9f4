//! The Autobahn TestSuite client loop, run against its `fuzzingserver`:
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 wsmachine
//! ```
//!
//! Asks `/getCaseCount` (the first text message is the number of cases), runs
//! `/runCase?case=N&agent=AGENT` for every case, echoing each text and binary message,
//! then asks for `/updateReports?agent=AGENT` so the suite writes its report.

mod common;

use common::driver::Driver;
use common::echo::{self, Outcome};
use common::url::{encode_query_value, WsUrl};
use std::error::Error;
use std::net::TcpStream;
use std::process::ExitCode;
use wsmachine::{ClientConfig, Connection, Event, Options};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_string());
    let agent = args.next().unwrap_or_else(|| "wsmachine".to_string());
    match run(&base, &agent) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(base: &str, agent: &str) -> Result<(), Box<dyn Error>> {
    let base = WsUrl::parse(base)?;
    let agent_q = encode_query_value(agent);
    let count = case_count(&base)?;
    eprintln!("{count} cases");
    for case in 1..=count {
        let url = base.with_path(&format!("/runCase?case={case}&agent={agent_q}"));
        match run_case(&url) {
            Ok(o) => eprintln!(
                "case {case}/{count}: clean={} code={} echoed={}{}",
                o.clean,
                o.code,
                o.echoed,
                o.failure.map(|f| format!(" ({f})")).unwrap_or_default()
            ),
            // One case's transport failing must not stop the run.
            Err(e) => eprintln!("case {case}/{count}: {e}"),
        }
    }
    let url = base.with_path(&format!("/updateReports?agent={agent_q}"));
    let mut driver = connect(&url)?;
    while driver.next_event()?.is_some() {}
    driver.finish(echo::LINGER);
    eprintln!("reports updated for agent {agent:?}");
    Ok(())
}

/// A client with limits that fit the suite's largest messages.
fn connect(url: &WsUrl) -> Result<Driver, Box<dyn Error>> {
    let stream = TcpStream::connect(&url.addr)?;
    let options = Options::new()
        .max_message_size(echo::MAX_MESSAGE)
        .max_frame_size(echo::MAX_MESSAGE);
    let conn = Connection::client(ClientConfig::new(&url.host, &url.path).options(options))?;
    Ok(Driver::new(stream, conn)?)
}

fn case_count(base: &WsUrl) -> Result<u32, Box<dyn Error>> {
    let mut driver = connect(&base.with_path("/getCaseCount"))?;
    let mut count = None;
    while let Some(event) = driver.next_event()? {
        match event {
            Event::Text(text) if count.is_none() => count = Some(text.trim().parse::<u32>()?),
            Event::Error(failure) => return Err(format!("getCaseCount: {failure}").into()),
            _ => {}
        }
    }
    driver.finish(echo::LINGER);
    count.ok_or_else(|| "getCaseCount sent no count".into())
}

fn run_case(url: &WsUrl) -> Result<Outcome, Box<dyn Error>> {
    let mut driver = connect(url)?;
    let outcome = echo::echo_until_closed(&mut driver)?;
    driver.finish(echo::LINGER);
    Ok(outcome)
}
