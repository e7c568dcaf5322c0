// vpay88-sandbox for Node: the path of this platform's binary, and start(), which runs
// one sandbox on a free port of 127.0.0.1 for a test run (Jest, Vitest or Playwright
// global setup) and stops it. The binary comes from the optional dependency
// @vpay88-sandbox/<os>-<arch> that npm installed for this machine (the layout esbuild
// and Biome use: npm skips the packages whose "os" and "cpu" do not match).
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

// PLATFORMS maps Node's process.platform and process.arch to the package that holds
// the binary built for them (.goreleaser.yaml's linux, darwin, windows × amd64, arm64).
const PLATFORMS = {
  "linux-x64": "@vpay88-sandbox/linux-x64",
  "linux-arm64": "@vpay88-sandbox/linux-arm64",
  "darwin-x64": "@vpay88-sandbox/darwin-x64",
  "darwin-arm64": "@vpay88-sandbox/darwin-arm64",
  "win32-x64": "@vpay88-sandbox/win32-x64",
  "win32-arm64": "@vpay88-sandbox/win32-arm64",
};

/**
 * binaryPath returns the path of the vpay88-sandbox binary for this machine:
 * VPAY88_SANDBOX_BINARY when set (a binary built from a checkout, or installed by
 * install.sh), else the one in this platform's package.
 */
function binaryPath() {
  const override = process.env.VPAY88_SANDBOX_BINARY;
  if (override) return override;
  const key = `${process.platform}-${process.arch}`;
  const pkg = PLATFORMS[key];
  if (!pkg) {
    throw new Error(
      `no vpay88-sandbox build for ${key} (there are ${Object.keys(PLATFORMS).join(", ")}): ` +
        "build it with Go (go build github.com/vpay88/vpay88-sandbox) and set VPAY88_SANDBOX_BINARY to it",
    );
  }
  const exe = process.platform === "win32" ? "vpay88-sandbox.exe" : "vpay88-sandbox";
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch {
    throw new Error(
      `the package ${pkg} is not installed, so there is no binary for ${key}. ` +
        "npm installs it as an optional dependency of vpay88-sandbox: install without " +
        "--no-optional / --omit=optional, and from a lock file made on any platform " +
        "(npm 7+ records every platform's package)",
    );
  }
}

/**
 * start runs one sandbox and resolves once it answers /healthz.
 *
 * @param {object} [opts]
 * @param {string} [opts.profile] "document" or "observed" (--profile)
 * @param {string} [opts.host] the address to listen on, default "127.0.0.1"
 * @param {number} [opts.port] default 0: a free port, found in the address file
 * @param {boolean} [opts.ephemeral] default true: state in a temporary file removed on exit
 * @param {boolean} [opts.fastRetries] default true: callback retries within 34 s
 * @param {string} [opts.callbackUrl] the callback URL of the configured merchant vpay88-test
 * @param {string} [opts.adminToken] bearer token guarding /sandbox/api
 * @param {string} [opts.config] a YAML config file (--config)
 * @param {string[]} [opts.args] more flags of `vpay88-sandbox serve`
 * @param {object} [opts.env] the environment (default process.env)
 * @param {boolean} [opts.log] copy the sandbox's log to this process's stderr
 * @param {number} [opts.timeout] milliseconds to wait for it, default 30000
 * @param {string} [opts.binary] the binary to run (default binaryPath())
 * @returns {Promise<{url: string, pid: number, stop: () => Promise<void>, log: () => string}>}
 */
async function start(opts = {}) {
  const {
    profile,
    host = "127.0.0.1",
    port = 0,
    ephemeral = true,
    fastRetries = true,
    callbackUrl,
    adminToken,
    config,
    args = [],
    env = process.env,
    log = false,
    timeout = 30000,
    binary = binaryPath(),
  } = opts;
  // serve writes the URL it really bound to this file once it listens (--addr-file):
  // with port 0 nothing else knows it, and no log line needs parsing.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vpay88-sandbox-npm-"));
  const addrFile = path.join(dir, "addr");
  const argv = ["serve", "--addr", `${host.includes(":") ? `[${host}]` : host}:${port}`, "--addr-file", addrFile];
  if (ephemeral) argv.push("--ephemeral");
  else argv.push("--data", path.join(dir, "sandbox.db"));
  if (fastRetries) argv.push("--fast-retries");
  if (profile) argv.push("--profile", profile);
  if (callbackUrl) argv.push("--callback-url", callbackUrl);
  if (adminToken) argv.push("--admin-token", adminToken);
  if (config) argv.push("--config", config);
  argv.push(...args);

  const child = spawn(binary, argv, { env, stdio: ["ignore", "ignore", "pipe"], windowsHide: true });
  // The last 64 KiB of its log, for the errors below and log().
  let logTail = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (s) => {
    if (log) process.stderr.write(s);
    logTail = (logTail + s).slice(-65536);
  });
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
    child.on("error", (err) => resolve({ error: err }));
  });
  let done = false;
  exited.then(() => {
    done = true;
  });

  // The sandbox lives as long as this process: it does not keep a test runner
  // alive on its own (a forgotten stop() would hang it), and it is killed when this
  // process exits without stop().
  child.unref();
  child.stderr.unref();
  const onExit = () => {
    if (!done) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  const cleanup = () => {
    process.removeListener("exit", onExit);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const stop = async () => {
    if (!done) {
      // Held until it has exited: the graceful stop is waited for.
      child.ref();
      child.stderr.ref();
      child.kill("SIGTERM"); // graceful: callbacks in flight finish, the temporary state is removed
      const killer = setTimeout(() => child.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(killer);
    }
    cleanup();
  };

  const deadline = Date.now() + timeout;
  try {
    let url;
    for (;;) {
      if (done) {
        const how = await exited;
        throw new Error(
          how.error
            ? `vpay88-sandbox could not start (${binary}): ${how.error.message}`
            : `vpay88-sandbox exited before it listened (code ${how.code}, signal ${how.signal}):\n${logTail}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`vpay88-sandbox did not answer within ${timeout} ms:\n${logTail}`);
      if (!url) {
        try {
          url = fs.readFileSync(addrFile, "utf8").trim() || undefined;
        } catch {
          // not written yet
        }
      }
      if (url && (await healthy(url))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return { url, pid: child.pid, stop, log: () => logTail };
  } catch (err) {
    await stop();
    throw err;
  }
}

// healthy asks url's /healthz once.
async function healthy(url) {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

exports.binaryPath = binaryPath;
exports.start = start;
exports.PLATFORMS = PLATFORMS;
