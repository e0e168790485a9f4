// The exit convention of the test scripts with an async main: exit code 0, or 1 with
// "error ..." on stderr, which the Rust side of the tests reads.
"use strict";

// exitCode, not exit(): stdout to a pipe is written asynchronously and must drain first.
function runMain(main) {
  main().then(
    () => {
      process.exitCode = 0;
    },
    (e) => {
      console.error(`error ${e && e.stack ? e.stack : e}`);
      process.exitCode = 1;
    },
  );
}

module.exports = { runMain };
