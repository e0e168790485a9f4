// Headless Chromium for the browser tests (browser.js, chat.js, h2_browser.js): Debian's
// package driven by playwright-core (no browser is downloaded), started with a fresh profile
// that is removed again on every path.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const EXECUTABLE = process.env.CHROMIUM || "/usr/bin/chromium";

// Flags every test browser runs with: headless, no sandbox (CI runs as root), nothing that
// talks to the network on its own.
const BASE_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// Runs `body(context)` in a browser started with `BASE_ARGS` plus `args` and the extra
// launch `options`; prints "browser VERSION" first. The browser is closed and its profile
// removed however `body` ends.
async function withChromium({ timeoutMs, args = [], options = {} }, body) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "wsmachine-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: EXECUTABLE,
      headless: true,
      chromiumSandbox: false,
      timeout: timeoutMs,
      args: [...BASE_ARGS, ...args],
      ...options,
    });
    const version = context.browser() ? context.browser().version() : "unknown";
    console.log(`browser ${version}`);
    return await body(context);
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

module.exports = { withChromium };
