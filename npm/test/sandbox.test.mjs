// The npm package as a merchant's project gets it: .ci/npm-test.sh installs the packed
// tarballs into a scratch project, offline, copies this file there and runs
// `node --test`. Everything runs on 127.0.0.1.
//
// EXPECT_VERSION (set by the script) is the version the packages were built as.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { createRequire } from "node:module";

import { start, binaryPath } from "vpay88-sandbox";

const require = createRequire(import.meta.url);
const md5 = (s) => crypto.createHash("md5").update(s).digest("hex");

test("the binary is this platform's package's", () => {
  const bin = binaryPath();
  const pkg = `@vpay88-sandbox/${process.platform}-${process.arch}`;
  assert.equal(bin, require.resolve(`${pkg}/bin/vpay88-sandbox${process.platform === "win32" ? ".exe" : ""}`));
  assert.equal(require(`${pkg}/package.json`).version, process.env.EXPECT_VERSION);
  // npm installed no other platform's package.
  const scope = path.join(path.dirname(require.resolve("vpay88-sandbox/package.json")), "..", "@vpay88-sandbox");
  assert.deepEqual(fs.readdirSync(scope), [`${process.platform}-${process.arch}`]);
});

test("npx vpay88-sandbox version says the package's version", () => {
  const out = execFileSync("npx", ["--offline", "--no-install", "vpay88-sandbox", "version"], { encoding: "utf8" });
  assert.equal(out, `vpay88-sandbox v${process.env.EXPECT_VERSION}\n`);
});

test("npx vpay88-sandbox --ephemeral serves, and stops on SIGTERM", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npx-test-"));
  const addrFile = path.join(dir, "addr");
  // node_modules/.bin/vpay88-sandbox is what npx runs: the package's bin script.
  const child = spawn(path.join("node_modules", ".bin", "vpay88-sandbox"),
    ["--ephemeral", "--addr", "127.0.0.1:0", "--addr-file", addrFile], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (b) => (log += b));
  const exited = once(child, "exit");
  let url;
  for (let i = 0; i < 400 && !url; i++) {
    try {
      url = fs.readFileSync(addrFile, "utf8").trim();
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  assert.ok(url, `no address file within 10 s:\n${log}`);
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  child.kill("SIGTERM"); // the wrapper, not the binary: it must pass the signal on
  const [code] = await exited;
  assert.equal(code, 0, log);
  assert.match(log, /vpay88-sandbox stopped/, "the binary shut down gracefully");
  assert.equal(fs.existsSync(addrFile), false, "a graceful stop removes the address file");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("killing a background npx stops the sandbox too", async () => {
  // What `npx vpay88-sandbox --ephemeral &` then `kill $!` does in a CI script.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npx-test-"));
  const addrFile = path.join(dir, "addr");
  const npx = spawn("npx", ["--offline", "--no-install", "vpay88-sandbox", "--ephemeral", "--addr", "127.0.0.1:0", "--addr-file", addrFile],
    { stdio: "ignore" });
  let url;
  for (let i = 0; i < 400 && !url; i++) {
    try {
      url = fs.readFileSync(addrFile, "utf8").trim();
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  assert.ok(url, "no address file within 10 s");
  npx.kill("SIGTERM");
  // The address file goes at the binary's graceful stop.
  for (let i = 0; i < 200 && fs.existsSync(addrFile); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(fs.existsSync(addrFile), false, "the sandbox outlived the npx that started it");
  await assert.rejects(fetch(`${url}/healthz`));
  fs.rmSync(dir, { recursive: true, force: true });
});

test("start(): a deposit paid on the checkout page, its callback verified", async (t) => {
  const sandbox = await start({ profile: "document" });
  t.after(() => sandbox.stop());
  assert.match(sandbox.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const B = sandbox.url;

  // The merchant's callback receiver: answers "success" only for a token that verifies.
  let secret;
  const callbacks = [];
  let arrived;
  const got = new Promise((r) => (arrived = r));
  const receiver = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const cb = JSON.parse(body);
    const ok = typeof cb.token === "string" && cb.token === md5(secret + String(cb.order_id));
    callbacks.push({ cb, ok });
    res.writeHead(ok ? 200 : 403).end(ok ? "success" : "bad token");
    arrived();
  });
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  t.after(() => receiver.close());

  // A merchant of this test's own, with that receiver as its callback URL.
  let res = await fetch(`${B}/sandbox/api/merchants`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ callback_url: `http://127.0.0.1:${receiver.address().port}/vpay88/callback` }),
  });
  assert.equal(res.status, 201);
  const merchant = await res.json();
  secret = merchant.secret_key;

  const post = async (p, fields) => {
    const form = new FormData(); // multipart/form-data, as the vendor's PHP sends
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const r = await fetch(`${B}${p}`, { method: "POST", body: form });
    assert.equal(r.status, 200);
    return r.json();
  };
  const auth = await post("/merchant/auth", { username: merchant.username, api_key: merchant.api_key });
  assert.equal(auth.status, true, JSON.stringify(auth));
  const order = await post("/merchant/generate_orders", {
    username: "john", auth: auth.auth, amount: "100", currency: "MYR", orderid: "NPM-1",
    email: "john@example.com", phone_number: "601012456789",
  });
  assert.equal(order.status, true, JSON.stringify(order));
  assert.ok(order.p_url.startsWith(`${B}/checkout/order-pay/`), order.p_url);

  // The checkout page, as a customer's browser gets it: its form, posted with Pay.
  const page = await (await fetch(order.p_url)).text();
  assert.match(page, /data-testid="orderid">NPM-1</);
  const action = new URL(page.match(/<form[^>]*action="([^"]+)"/)[1].replaceAll("&amp;", "&"), order.p_url);
  const key = page.match(/name="key" value="([^"]+)"/)[1];
  const option = page.match(/name="option" value="([^"]+)"/)[1];
  res = await fetch(action, {
    method: "POST",
    body: new URLSearchParams({ key, option, name: "Ali Bin Abu", action: "pay" }),
    redirect: "manual",
  });
  assert.equal(res.status, 303);
  const result = await (await fetch(new URL(res.headers.get("location"), action))).text();
  assert.match(result, /data-testid="status">Payment completed</);

  // The callback: the vendor's fields, token = md5(secret key + order id).
  let timer;
  await Promise.race([got, new Promise((_, no) => (timer = setTimeout(() => no(new Error("no callback within 10 s")), 10000)))]);
  clearTimeout(timer);
  const { cb, ok } = callbacks[0];
  assert.equal(ok, true, JSON.stringify(cb));
  assert.equal(cb.order_id, "NPM-1");
  assert.equal(cb.order_status, "completed");
  assert.equal(cb.type, "deposit");
  assert.equal(cb.charge, "3.0000");
  assert.equal(cb.name, "Ali Bin Abu");
  assert.equal(cb.token, md5(merchant.secret_key + "NPM-1"));
  assert.notEqual(cb.token, md5("another secret" + "NPM-1"));

  const st = await post("/merchant/check_status", { username: merchant.username, id: "NPM-1" });
  assert.equal(st.order_status, "completed", JSON.stringify(st));

  res = await fetch(`${B}/sandbox/api/merchants/${encodeURIComponent(merchant.username)}`, { method: "DELETE" });
  assert.equal(res.status, 200);
});

test("start() fails with the sandbox's own words, and leaves nothing running", async () => {
  await assert.rejects(start({ profile: "nonsense" }), (err) => {
    assert.match(err.message, /exited before it listened/);
    assert.match(err.message, /--profile/);
    return true;
  });
});

test("a sandbox never stopped does not outlive the process that started it", () => {
  // A test run that forgets stop(): node exits at its end (the sandbox holds no
  // reference to the event loop) and takes the sandbox with it.
  const script = `const { start } = require("vpay88-sandbox");
    start().then((s) => console.log(JSON.stringify({ url: s.url, pid: s.pid })));`;
  const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20000 });
  const { url, pid } = JSON.parse(out);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  // SIGKILLed at exit: gone by the time node has exited and been waited for.
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    try {
      process.kill(pid, 0);
      execFileSync("sleep", ["0.05"]);
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, `pid ${pid} still running`);
});

test("stop() ends the process and removes its files", async () => {
  const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith("vpay88-sandbox-npm-"));
  const sandbox = await start({ ephemeral: false });
  await sandbox.stop();
  await assert.rejects(fetch(`${sandbox.url}/healthz`));
  assert.throws(() => process.kill(sandbox.pid, 0), { code: "ESRCH" });
  const after = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith("vpay88-sandbox-npm-"));
  assert.deepEqual(after, before);
});
