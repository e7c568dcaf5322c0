// The shop's browser test: a customer buys, pays on the sandbox's checkout page (by
// its data-testids) and lands on the shop's own thank-you page, which shows the
// callback's verdict. One sandbox for the file (start() from the vpay88-sandbox
// package), one merchant of its own, Debian's Chromium driven by playwright-core:
// no browser download.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { start } from "vpay88-sandbox";
import { startShop } from "./shop.mjs";

let sandbox, shop, browser;

before(async () => {
  sandbox = await start({ profile: "document" });
  shop = await startShop();
  // A merchant of this test run's own, calling the shop back.
  const res = await fetch(`${sandbox.url}/sandbox/api/merchants`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ callback_url: `${shop.url}/vpay88/callback` }),
  });
  assert.equal(res.status, 201);
  const m = await res.json();
  shop.account = { gateway: sandbox.url, username: m.username, apiKey: m.api_key, secretKey: m.secret_key };
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    // No calls home from CI (a closed network refuses them, many at a time).
    args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await shop?.close();
  await sandbox?.stop();
});

test("a customer pays and sees the shop's success page", async () => {
  const page = await browser.newPage();
  await page.goto(shop.url);
  await page.getByTestId("buy").click();
  // The shop sent the browser to the order's p_url: the sandbox's checkout page.
  await page.waitForURL(/\/checkout\/order-pay\//);
  assert.equal(await page.getByTestId("amount").innerText(), "MYR 25.00");
  const orderId = await page.getByTestId("orderid").innerText();
  assert.match(orderId, /^SHOP-/);
  await page.getByTestId("pay").click();
  // redirect_url: back to the shop, which shows what the verified callback said.
  await page.waitForURL(`${shop.url}/thanks?order=${orderId}`);
  await page.locator('[data-testid="shop-status"][data-state="completed"]').waitFor({ timeout: 15000 });
  assert.equal(await page.getByTestId("shop-status").innerText(), "Thank you! Your payment was received.");
  assert.equal(shop.orders.get(orderId), "completed");
  await page.close();
});

test("a failed payment shows the shop's failure page", async () => {
  const page = await browser.newPage();
  await page.goto(shop.url);
  await page.getByTestId("buy").click();
  await page.waitForURL(/\/checkout\/order-pay\//);
  const orderId = await page.getByTestId("orderid").innerText();
  await page.getByTestId("fail").click();
  await page.waitForURL(`${shop.url}/thanks?order=${orderId}`);
  await page.locator('[data-testid="shop-status"][data-state="fail"]').waitFor({ timeout: 15000 });
  assert.equal(await page.getByTestId("shop-status").innerText(), "Your payment failed.");
  await page.close();
});
