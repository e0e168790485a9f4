// Runs the browser flows of examples/page.html in headless Chromium (Debian's package,
// driven by playwright-core; no browser is downloaded) and prints one JSON line per flow.
//
//   node browser.js '{"page": "http://127.0.0.1:PORT/?manual",
//                     "flows": [{"name": "echo", "flow": "echoFlow", "args": ["ws://..."]}]}'
//
// Each flow runs in a fresh tab of one browser with a fresh profile. Output lines:
// "browser VERSION", then "flow NAME JSON" per flow; a failure prints "error ..." on stderr
// and exits 1. The browser is closed and the profile removed on every path.
"use strict";

const { withChromium } = require("./chromium");
const { runMain } = require("./run_main");

const FLOW_TIMEOUT_MS = 60000;

async function main() {
  const config = JSON.parse(process.argv[2]);
  await withChromium({ timeoutMs: FLOW_TIMEOUT_MS }, async (context) => {
    for (const run of config.flows) {
      const page = await context.newPage();
      page.setDefaultTimeout(FLOW_TIMEOUT_MS);
      // What the page logs helps when a flow fails.
      page.on("console", (m) => console.error(`[${run.name}] console: ${m.text()}`));
      page.on("pageerror", (e) => console.error(`[${run.name}] page error: ${e.message}`));
      await page.goto(run.page || config.page);
      // A flow named "auto" is the page's own run on load (what a person sees): its log.
      const work = run.flow === "auto"
        ? page
            .waitForFunction(() => /done: |failed: /.test(document.getElementById("log").textContent))
            .then(async () => ({ log: await page.evaluate(() => document.getElementById("log").innerText) }))
        : page.evaluate(({ flow, args }) => window.wsFlows[flow](...args), run);
      let timer;
      const result = await Promise.race([
        work,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`flow ${run.name} timed out`)), FLOW_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      console.log(`flow ${run.name} ${JSON.stringify(result)}`);
      await page.close();
    }
  });
}

runMain(main);
