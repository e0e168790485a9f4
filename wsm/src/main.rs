//! `wsm`: see the frames. A WebSocket client (`wsm connect URL`) and server (`wsm listen
//! PORT`) for the terminal that show the opening handshake as HTTP and then every frame
//! both ways, one line each, the way a browser's DevTools Messages tab does, with the frame
//! fields DevTools hides (FIN, RSV1, masking, control frames, close codes) and ping round
//! trips. Driven by the wsmachine engine with its frame trace on.

mod net;
mod session;
mod view;

use net::{Input, Transport, Url};
use session::{End, Session};
use std::io::BufRead;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use view::View;
use wsmachine::{ClientConfig, Connection, DeflateConfig, Options, ServerConfig};

const USAGE: &str = "\
wsm: see the frames of a WebSocket connection

usage:
  wsm connect [OPTIONS] ws://HOST:PORT/PATH   (or wss://)
  wsm listen [OPTIONS] PORT                   (on 127.0.0.1; PORT 0 picks one)

connect options:
  --subprotocol NAME   offer a subprotocol (repeatable)
  --header 'K: V'      add a request header (repeatable)
  --deflate            offer permessage-deflate
  --ca FILE            also trust the PEM certificates in FILE (wss://)
  --json               one JSON object per line instead of text
listen options:
  --subprotocol NAME   accept this subprotocol when offered (repeatable)
  --deflate            accept permessage-deflate when offered
  --echo               send every message back
  --json               one JSON object per line instead of text

Each frame: time since open, ↑ sent or ↓ received, opcode, FIN/RSV1, payload length,
masked or not, and a preview (text quoted, binary in hex, close as code and reason).
Lines typed on stdin are sent as text; /ping [TEXT] pings (the pong shows the round trip),
/binary HEX sends bytes, /close [CODE [REASON]] closes, //text sends /text. The end of
stdin closes a `connect` (code 1000).

exit codes: 0 the closing handshake completed; 1 the connection ended without one;
2 usage; 3 could not connect (TCP or TLS); 4 the upgrade was refused or failed (a
refusal's status and body are shown);
5 the peer broke the protocol (the close code it caused is shown).";

struct Args {
    json: bool,
    deflate: bool,
    echo: bool,
    subprotocols: Vec<String>,
    headers: Vec<(String, String)>,
    ca: Option<String>,
    target: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        json: false,
        deflate: false,
        echo: false,
        subprotocols: Vec::new(),
        headers: Vec::new(),
        ca: None,
        target: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--json" => a.json = true,
            "--deflate" => a.deflate = true,
            "--echo" => a.echo = true,
            "--subprotocol" => a.subprotocols.push(value("--subprotocol")?),
            "--ca" => a.ca = Some(value("--ca")?),
            "--header" | "-H" => {
                let h = value("--header")?;
                let (k, v) = h
                    .split_once(':')
                    .ok_or(format!("--header {h:?}: not NAME: VALUE"))?;
                a.headers.push((k.trim().to_string(), v.trim().to_string()));
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if a.target.is_none() => a.target = Some(s.to_string()),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let parsed = parse_args(args);
    let result = match (command.as_deref(), parsed) {
        (Some("-h" | "--help" | "help"), _) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        (Some("connect"), Ok(a)) => connect(a),
        (Some("listen"), Ok(a)) => listen(a),
        (_, Err(e)) => Err((2, e)),
        (Some(c), _) => Err((2, format!("unknown command {c}"))),
        (None, _) => Err((2, "no command".to_string())),
    };
    match result {
        Ok(end) => ExitCode::from(end as u8),
        Err((code, message)) => {
            eprintln!("wsm: {message}");
            if code == 2 {
                eprintln!("{USAGE}");
            }
            ExitCode::from(code)
        }
    }
}

/// Reads stdin lines into `deliver` until its end.
fn spawn_stdin(deliver: impl Fn(Input) + Send + 'static) {
    thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            match line {
                Ok(line) => deliver(Input::Line(line)),
                Err(_) => break,
            }
        }
        deliver(Input::StdinEnd);
    });
}

fn options() -> Options {
    Options::new().trace_frames(true)
}

fn connect(a: Args) -> Result<End, (u8, String)> {
    let target = a.target.ok_or((2, "connect needs a URL".to_string()))?;
    let url = Url::parse(&target).map_err(|e| (2, e))?;
    let mut config = ClientConfig::new(url.host_header(), url.path.clone()).options(options());
    for p in &a.subprotocols {
        config = config.subprotocol(p.clone());
    }
    for (k, v) in &a.headers {
        config = config.header(k.clone(), v.clone());
    }
    if a.deflate {
        config = config.deflate(DeflateConfig::new());
    }
    let conn = Connection::client(config).map_err(|e| (2, e.to_string()))?;

    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| (3, format!("{}: {e}", url.host)))?
        .collect();
    let tcp = addrs
        .iter()
        .find_map(|addr| TcpStream::connect_timeout(addr, Duration::from_secs(10)).ok())
        .ok_or_else(|| (3, format!("cannot connect to {}:{}", url.host, url.port)))?;
    let _ = tcp.set_nodelay(true);
    let transport = if url.tls {
        Transport::tls(tcp, &url.host, a.ca.as_deref()).map_err(|e| (3, e))?
    } else {
        Transport::plain(tcp)
    };
    let (tx, rx) = mpsc::channel();
    transport
        .spawn_reader(tx.clone())
        .map_err(|e| (3, e.to_string()))?;
    spawn_stdin(move |input| {
        let _ = tx.send(input);
    });
    let mut session = Session::new(conn, transport, View::new(a.json), rx);
    session.stdin_closes = true;
    Ok(session.run())
}

fn listen(a: Args) -> Result<End, (u8, String)> {
    let port: u16 = a
        .target
        .as_deref()
        .ok_or((2, "listen needs a PORT".to_string()))?
        .parse()
        .map_err(|_| (2, "PORT must be a number".to_string()))?;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| (3, format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let local = listener.local_addr().map_err(|e| (3, e.to_string()))?;
    eprintln!("wsm: listening on ws://{local}/");
    let mut config = ServerConfig::new().options(options());
    for p in &a.subprotocols {
        config = config.subprotocol(p.clone());
    }
    if a.deflate {
        config = config.deflate(DeflateConfig::new());
    }
    // Lines typed go to every open connection.
    let sessions: Arc<Mutex<Vec<Sender<Input>>>> = Arc::default();
    let all = sessions.clone();
    spawn_stdin(move |input| {
        let mut all = all.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|tx| {
            let copy = match &input {
                Input::Line(l) => Input::Line(l.clone()),
                _ => Input::StdinEnd,
            };
            tx.send(copy).is_ok()
        });
    });
    let mut n = 0u64;
    for stream in listener.incoming() {
        let Ok(tcp) = stream else { continue };
        n += 1;
        let _ = tcp.set_nodelay(true);
        let peer = tcp.peer_addr().map_or("?".to_string(), |p| p.to_string());
        let mut view = View::new(a.json);
        view.prefix = if a.json {
            String::new()
        } else {
            format!("#{n} ")
        };
        view.conn = Some(n);
        let (tx, rx) = mpsc::channel();
        let transport = Transport::plain(tcp);
        if transport.spawn_reader(tx.clone()).is_err() {
            continue;
        }
        sessions.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
        let conn = Connection::server(config.clone());
        let echo = a.echo;
        let json = a.json;
        thread::spawn(move || {
            if !json {
                eprintln!("wsm: #{n} connection from {peer}");
            }
            let mut session = Session::new(conn, transport, view, rx);
            session.echo = echo;
            let end = session.run();
            if !json {
                eprintln!("wsm: #{n} ended ({end:?})");
            }
        });
    }
    Ok(End::Clean)
}
