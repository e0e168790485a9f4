// Drives several pages of examples/chat.html at once in headless Chromium (Debian's package,
// through playwright-core) and prints what each page saw as JSON.
//
//   node chat.js '{"url": "http://127.0.0.1:PORT/", "pages": 3, "messages": 20,
//                  "notices": true, "present": 0, "flood": null}'
//
// Every page loads `url` (the chat page, which connects by itself) and joins in turn; with
// `notices`, a page has joined once it received its own "(N online)" notice, N counting the
// `present` clients already there. Then all pages send `messages` texts each, at once, and
// wait until they received every message they expect (the server's notices, texts starting
// with "* ", are not messages): every page's, or with `"echoesSender": false` (the C
// broadcast server) every other page's.
//
// With `flood` ({"slow": "ADDR", "size": 32000, "batch": 2, "maxBatches": 100,
// "after": 10}), the pages send rounds of `batch` texts of `size` random characters each,
// every round received by all before the next, until the server's "* ADDR too slow" notice
// for the client at ADDR (one that stopped reading) arrives; then, after its
// "* ADDR dropped: too slow" notice, `after` short texts each. Every page must receive them
// all.
//
// Output lines: "browser VERSION", then "page I JSON" per page ({received, notices, frames,
// rows, headers, state}). A failure prints "error ..." on stderr and exits 1; the browser is
// closed and its profile removed on every path.
"use strict";

const { withChromium } = require("./chromium");
const { runMain } = require("./run_main");

const TIMEOUT_MS = 90000;

// Resolves when `predicate(chat)` holds in the page (polled).
function until(page, predicate, arg) {
  return page.waitForFunction(predicate, arg, { timeout: TIMEOUT_MS, polling: 50 });
}

async function openPage(context, config, index, online) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on("pageerror", (e) => console.error(`[page ${index}] page error: ${e.message}`));
  await page.goto(config.url);
  await until(page, () => window.chat.ws && window.chat.ws.readyState === WebSocket.OPEN);
  if (config.notices) {
    // Our own join notice: "* ADDR joined (N online)", N counting us.
    await until(page, (n) => window.chat.received().some((t) => t.endsWith(` joined (${n} online)`)),
      online);
  }
  return page;
}

// Each page sends `count` texts ("pageI KIND J" for J from `start`, or random characters of
// `size` after "pageI big J " for KIND big), all pages at once.
function sendAll(pages, count, kind, size, start) {
  return Promise.all(pages.map((page, i) => page.evaluate(async ({ i, count, kind, size, start }) => {
    for (let j = start; j < start + count; j++) {
      // A pause now and then, so that the pages' messages interleave at the server.
      if (j % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 1 + ((i + j) % 3)));
      if (kind === "big") {
        // Random characters: permessage-deflate cannot shrink them much.
        let s = `page${i} big ${j} `;
        while (s.length < size) s += Math.random().toString(36).slice(2);
        window.chat.send(s.slice(0, size));
      } else {
        window.chat.send(`page${i} ${kind} ${j}`);
      }
    }
  }, { i, count, kind, size, start: start || 0 })));
}

// Waits until every page received `expected` messages (notices aside).
function receivedAll(pages, expected) {
  return Promise.all(pages.map((page) => until(page,
    (n) => window.chat.received().filter((t) => !t.startsWith("* ")).length >= n, expected)));
}

async function report(page) {
  // Texts cut to 60 characters: the big ones are told apart by their start.
  return page.evaluate(() => ({
    received: window.chat.received().filter((t) => !t.startsWith("* ")).map((t) => t.slice(0, 24)),
    notices: window.chat.received().filter((t) => t.startsWith("* ")),
    frames: window.chat.frames.slice(0, 100).map((f) => ({ ...f, data: f.data.slice(0, 24) })),
    rows: document.querySelectorAll("#frames tr").length,
    headers: Array.from(document.querySelectorAll("thead th"), (th) => th.textContent),
    state: window.chat.ws.readyState,
  }));
}

async function main() {
  const config = JSON.parse(process.argv[2]);
  // Background tabs must keep their timers and sockets going like a foreground one.
  const args = [
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
  ];
  await withChromium({ timeoutMs: TIMEOUT_MS, args }, async (context) => {
    const present = config.present || 0;
    const pages = [];
    for (let i = 0; i < config.pages; i++) {
      pages.push(await openPage(context, config, i, present + i + 1));
    }
    // Each page gets every page's messages (its own too, unless the server leaves the
    // sender out, as the C broadcast server does).
    const others = config.echoesSender === false ? config.pages - 1 : config.pages;
    let expected = 0;

    if (config.flood) {
      const f = config.flood;
      const seen = (notice) => Promise.all(pages.map((p) =>
        p.evaluate((n) => window.chat.received().some((t) => t.startsWith(n)), notice)));
      let batches = 0;
      while (!(await seen(`* ${f.slow} too slow: `)).every(Boolean)) {
        if (batches++ === f.maxBatches) throw new Error(`${f.slow} was never found too slow`);
        await sendAll(pages, f.batch, "big", f.size, (batches - 1) * f.batch);
        expected += f.batch * others;
        await receivedAll(pages, expected);
      }
      // Dropped once its close timeout ran out (it reads no close frame either).
      await Promise.all(pages.map((p) => until(p, (n) =>
        window.chat.received().some((t) => t.startsWith(n)), `* ${f.slow} dropped: too slow `)));
      await sendAll(pages, f.after, "after");
      expected += f.after * others;
    } else {
      await sendAll(pages, config.messages, "message");
      expected += config.messages * others;
    }
    await receivedAll(pages, expected);
    for (let i = 0; i < pages.length; i++) {
      console.log(`page ${i} ${JSON.stringify(await report(pages[i]))}`);
    }
  });
}

runMain(main);
