// Headless Chromium (Debian's package, driven by playwright-core) against an HTTPS server that
// speaks HTTP/2 only (tests/h2_browser.rs): loads the page, then opens a WebSocket to the
// same origin, which Chromium may carry on that HTTP/2 connection as an RFC 8441 extended
// CONNECT. The certificate is made at run time, so certificate errors are ignored.
//
//   node h2_browser.js '{"page": "https://127.0.0.1:PORT/", "ws": "wss://127.0.0.1:PORT/echo"}'
//
// Prints "browser VERSION" and "result JSON"; a failure prints "error ..." on stderr and
// exits 1. The browser is closed and the profile removed on every path.
"use strict";

const { withChromium } = require("./chromium");
const { runMain } = require("./run_main");

const TIMEOUT_MS = 30000;

// In the page: the navigation's protocol, then one WebSocket: a text and a binary message
// echoed, and a close with 4000 "bye".
function flow(url) {
  return new Promise((resolve) => {
    const nav = performance.getEntriesByType("navigation")[0];
    const r = { pageProtocol: nav ? nav.nextHopProtocol : "?", received: [] };
    const ws = new WebSocket(url, ["chat"]);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      r.protocol = ws.protocol;
      r.extensions = ws.extensions;
      ws.send("hello over HTTP/2");
      ws.send(new Uint8Array([1, 2, 3, 250]).buffer);
    };
    ws.onmessage = (e) => {
      r.received.push(typeof e.data === "string" ? e.data : Array.from(new Uint8Array(e.data)));
      if (r.received.length === 2) ws.close(4000, "bye");
    };
    ws.onerror = () => {
      r.error = true;
    };
    ws.onclose = (e) => {
      r.close = { wasClean: e.wasClean, code: e.code, reason: e.reason };
      resolve(r);
    };
  });
}

async function main() {
  const config = JSON.parse(process.argv[2]);
  const args = ["--ignore-certificate-errors", ...(config.extraArgs || [])];
  const options = { ignoreHTTPSErrors: true };
  await withChromium({ timeoutMs: TIMEOUT_MS, args, options }, async (context) => {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(TIMEOUT_MS);
    page.on("console", (m) => console.error(`console: ${m.text()}`));
    await page.goto(config.page);
    const result = await page.evaluate(flow, config.ws);
    console.log(`result ${JSON.stringify(result)}`);
  });
}

runMain(main);
