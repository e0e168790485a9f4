//! The Autobahn TestSuite client protocol, as its `fuzzingserver` speaks it: the number of
//! cases from `/getCaseCount`, each case from `/runCase?case=N&agent=AGENT` (echo every
//! message), then `/updateReports?agent=AGENT` so the suite writes its report.

use super::driver::Driver;
use super::echo::{self, Outcome};
use super::url::{encode_query_value, WsUrl};
use std::error::Error;
use std::net::TcpStream;
use wsmachine::{ClientConfig, Connection, Event, Options};

/// Runs every case against the fuzzingserver at `base` under the name `agent`, printing a
/// line per case to stderr; returns the number of cases.
pub fn run_all(base: &WsUrl, agent: &str) -> Result<u32, Box<dyn Error>> {
    let agent_q = encode_query_value(agent);
    let count = case_count(base)?;
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
    let mut driver = connect(&base.with_path(&format!("/updateReports?agent={agent_q}")))?;
    while driver.next_event()?.is_some() {}
    driver.finish(echo::LINGER);
    eprintln!("reports updated for agent {agent:?}");
    Ok(count)
}

/// A client with limits that fit the suite's largest messages (16 MiB), offering
/// permessage-deflate when the `deflate` feature is on.
fn connect(url: &WsUrl) -> Result<Driver, Box<dyn Error>> {
    let stream = TcpStream::connect(&url.addr)?;
    let options = Options::new()
        .max_message_size(echo::MAX_MESSAGE)
        .max_frame_size(echo::MAX_MESSAGE);
    let config = ClientConfig::new(&url.host, &url.path).options(options);
    // The suite's cases 12 and 13 need permessage-deflate offered.
    #[cfg(feature = "deflate")]
    let config = config.deflate(wsmachine::DeflateConfig::new());
    let conn = Connection::client(config)?;
    Ok(Driver::new(stream, conn)?)
}

/// The first text message of `/getCaseCount` is the number of cases.
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
