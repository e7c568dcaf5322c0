#!/usr/bin/env node
// The vpay88-sandbox command of the npm package: runs this platform's binary (from
// its @vpay88-sandbox/<os>-<arch> package) with the same arguments, forwards the
// signals that stop it, and exits with its code.
"use strict";

const { spawn } = require("node:child_process");
const { binaryPath } = require("../index.js");

let bin;
try {
  bin = binaryPath();
} catch (err) {
  process.stderr.write(`vpay88-sandbox: ${err.message}\n`);
  process.exit(1);
}

const child = spawn(bin, process.argv.slice(2), { stdio: "inherit", windowsHide: true });
// `npx vpay88-sandbox --ephemeral &` then `kill $!` signals this process, not the
// binary: pass SIGTERM, SIGINT and SIGHUP on so it shuts down gracefully instead of
// being left running.
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(sig, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
}
// `npx` (npm exec) runs this script through `sh -c` and, killed itself, passes the
// signal to that shell only, which dies without passing it on: this script is
// orphaned with the sandbox still serving. So once the process that started it is
// gone, stop the sandbox as if it had been sent SIGTERM.
const parent = process.ppid;
const orphanWatch = setInterval(() => {
  if (process.ppid !== parent && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
  }
}, 500);
orphanWatch.unref();
child.on("error", (err) => {
  process.stderr.write(`vpay88-sandbox: cannot run ${bin}: ${err.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  // The shell's convention for a death by signal: 128 + its number.
  process.exit(code ?? 128 + (require("node:os").constants.signals[signal] || 0));
});
