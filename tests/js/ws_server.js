// Node's ws package as a server for the wsmachine client: the request path selects what it
// does. It prints "listening on 127.0.0.1:PORT (ws VERSION)" once ready, then one line
// "event JSON" per thing it saw (open, message, ping, pong, close, error).
//
//   node ws_server.js [--deflate]
//
// Paths: /echo (every message back as the same kind), /fragmented (sends a text message cut
// inside a code point and a binary message, each in three frames), /ping (pings, and on the
// pong sends "pong received: PAYLOAD"), /close/CODE/REASON (closes with them),
// /close-empty (a close frame without a body), /terminate (ends TCP without a close).
// permessage-deflate is accepted only with --deflate; the subprotocol is chat.v2 if offered.
"use strict";

const { WebSocketServer } = require("ws");
const version = require("ws/package.json").version;

const deflate = process.argv.includes("--deflate");
const wss = new WebSocketServer({
  host: "127.0.0.1",
  port: 0,
  perMessageDeflate: deflate,
  maxPayload: 64 << 20,
  handleProtocols: (offered) => (offered.has("chat.v2") ? "chat.v2" : false),
});

wss.on("listening", () => {
  console.log(`listening on 127.0.0.1:${wss.address().port} (ws ${version})`);
});

wss.on("connection", (ws, req) => {
  const path = decodeURIComponent(req.url);
  const report = (kind, details) => console.log(`event ${JSON.stringify({ path, kind, ...details })}`);
  report("open", { protocol: ws.protocol, extensions: ws.extensions });
  ws.on("message", (data, isBinary) => {
    report("message", { isBinary, length: data.length });
    if (path === "/echo") ws.send(data, { binary: isBinary });
  });
  ws.on("ping", (data) => report("ping", { data: data.toString() }));
  ws.on("pong", (data) => {
    report("pong", { data: data.toString() });
    if (path === "/ping") ws.send(`pong received: ${data}`);
  });
  ws.on("close", (code, reason) => report("close", { code, reason: reason.toString() }));
  ws.on("error", (e) => report("error", { message: e.message }));

  const close = /^\/close\/(\d+)\/(.*)$/.exec(path);
  if (path === "/fragmented") {
    const text = Buffer.from("Привет, клиент!");
    ws.send(text.subarray(0, 3), { binary: false, fin: false });
    ws.send(text.subarray(3, 10), { binary: false, fin: false });
    ws.send(text.subarray(10), { binary: false, fin: true });
    const data = Buffer.alloc(3000, 7);
    ws.send(data.subarray(0, 1000), { binary: true, fin: false });
    ws.send(data.subarray(1000, 1001), { binary: true, fin: false });
    ws.send(data.subarray(1001), { binary: true, fin: true });
  } else if (path === "/ping") {
    ws.ping("are you there?");
  } else if (close) {
    ws.close(Number(close[1]), close[2]);
  } else if (path === "/close-empty") {
    ws.close();
  } else if (path === "/terminate") {
    ws.terminate();
  }
});

// The test kills the process when done; SIGTERM ends it at once.
process.on("SIGTERM", () => process.exit(0));
