// Node's ws package as a client of the wsmachine echo servers: one connection per scenario,
// each printing "result NAME JSON" with what the client observed (the Rust test asserts).
//
//   node ws_client.js ws://127.0.0.1:PORT/ [--no-deflate] SCENARIO...
//
// Scenarios: text, binary, large, fragmented, ping, keepalive, close_code, close_empty,
// server_close, terminate. The client offers subprotocols chat.v1 and chat.v2, and
// permessage-deflate unless --no-deflate.
"use strict";

const { runMain } = require("./run_main");

const WebSocket = require("ws");

const GREETING = "Привет, сервер!";
const KEEPALIVE_IDLE_MS = 4500;

function pattern(n, seed) {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

// A connection whose messages are awaited one at a time.
function connect(url, deflate) {
  const ws = new WebSocket(url, ["chat.v1", "chat.v2"], { perMessageDeflate: deflate });
  const inbox = [];
  const waiting = [];
  const c = { ws, pings: [], pongs: [] };
  ws.on("message", (data, isBinary) => {
    const m = { data, isBinary };
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  ws.on("ping", (data) => c.pings.push(data.toString()));
  ws.on("pong", (data) => c.pongs.push(data.toString()));
  c.closed = new Promise((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  c.opened = new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("error", reject);
  });
  c.next = () =>
    inbox.length ? Promise.resolve(inbox.shift()) : new Promise((resolve) => waiting.push(resolve));
  return c;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const scenarios = {
  async text(c, r) {
    c.ws.send(GREETING);
    const m = await c.next();
    r.echo = { text: m.data.toString(), isBinary: m.isBinary };
    c.ws.close(1000, "done");
  },
  async binary(c, r) {
    const data = pattern(1000, 1);
    c.ws.send(data);
    const m = await c.next();
    r.echo = { isBinary: m.isBinary, same: data.equals(m.data) };
    c.ws.close(1000, "done");
  },
  async large(c, r) {
    const data = pattern(4 << 20, 2);
    const text = "Ж€a".repeat((1 << 20) / 6);
    c.ws.send(data);
    c.ws.send(text);
    const m1 = await c.next();
    const m2 = await c.next();
    r.binary = { length: m1.data.length, same: m1.isBinary && data.equals(m1.data) };
    r.text = { length: m2.data.length, same: !m2.isBinary && m2.data.toString() === text };
    c.ws.close(1000, "done");
  },
  // Three frames per message; the text is cut inside a two-byte code point.
  async fragmented(c, r) {
    const text = Buffer.from(GREETING);
    c.ws.send(text.subarray(0, 3), { binary: false, fin: false });
    c.ws.send(text.subarray(3, 9), { binary: false, fin: false });
    c.ws.send(text.subarray(9), { binary: false, fin: true });
    const data = pattern(3000, 3);
    c.ws.send(data.subarray(0, 1000), { binary: true, fin: false });
    c.ws.send(data.subarray(1000, 1001), { binary: true, fin: false });
    c.ws.send(data.subarray(1001), { binary: true, fin: true });
    const m1 = await c.next();
    const m2 = await c.next();
    r.text = { text: m1.data.toString(), isBinary: m1.isBinary };
    r.binary = { isBinary: m2.isBinary, same: data.equals(m2.data) };
    c.ws.close(1000, "done");
  },
  async ping(c, r) {
    const pong = new Promise((resolve) => c.ws.once("pong", (d) => resolve(d.toString())));
    c.ws.ping("are you there?");
    r.pong = await pong;
    c.ws.close(1000, "done");
  },
  // Silent for several of the server's ping intervals: ws answers its pings by itself.
  async keepalive(c, r) {
    await sleep(KEEPALIVE_IDLE_MS);
    r.pingsFromServer = c.pings.length;
    c.ws.send(GREETING);
    r.echo = (await c.next()).data.toString();
    c.ws.close(4003, "idle done");
  },
  async close_code(c) {
    c.ws.close(4000, "bye");
  },
  // No code: ws sends a close frame without a body (the server reports 1005).
  async close_empty(c) {
    c.ws.close();
  },
  async server_close(c) {
    c.ws.send("close-me 4001 server says bye");
  },
  // The TCP connection ends without a closing handshake (the server reports 1006).
  async terminate(c) {
    c.ws.terminate();
  },
};

async function main() {
  const args = process.argv.slice(2);
  const url = args.shift();
  const deflate = !args.includes("--no-deflate");
  for (const name of args.filter((a) => !a.startsWith("--"))) {
    if (!scenarios[name]) throw new Error(`unknown scenario ${name}`);
    const c = connect(url, deflate);
    await c.opened;
    const r = { protocol: c.ws.protocol, extensions: c.ws.extensions };
    await scenarios[name](c, r);
    r.close = await c.closed;
    console.log(`result ${name} ${JSON.stringify(r)}`);
  }
}

runMain(main);
