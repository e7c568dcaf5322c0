// A tiny shop that takes deposits through Vpay88, as a merchant's web application
// does: "Buy" makes an order (auth, then generate_orders with a redirect_url back to
// the shop) and sends the customer to its p_url; the callback, checked with
// token = md5(secret key + order id), marks the order paid or failed; the thank-you
// page shows what the shop knows. Written for the test beside it; the calls are the
// vendor document's.
import crypto from "node:crypto";
import http from "node:http";
import { once } from "node:events";

/**
 * startShop listens on 127.0.0.1 at a free port. Give it its merchant account with
 * shop.account = { gateway, username, apiKey, secretKey } before the first order.
 */
export async function startShop() {
  const orders = new Map(); // order id → "waiting" | "completed" | "fail"
  let seq = 0;
  const shop = { account: null, orders, url: "" };

  const vpay88 = async (path, fields) => {
    const form = new FormData(); // multipart/form-data, as the vendor's PHP examples send
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${shop.account.gateway}${path}`, { method: "POST", body: form });
    return res.json();
  };

  const page = (title, body, refresh = false) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${refresh ? '<meta http-equiv="refresh" content="1">' : ""}</head><body>${body}</body></html>`;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, shop.url);
    try {
      if (req.method === "GET" && url.pathname === "/") {
        res.writeHead(200, { "content-type": "text/html" }).end(page("Shop",
          `<h1>Teapot</h1><p>MYR 25.00</p>
           <form method="post" action="/buy"><button data-testid="buy">Buy</button></form>`));
      } else if (req.method === "POST" && url.pathname === "/buy") {
        const orderId = `SHOP-${Date.now()}-${++seq}`;
        // One auth per order, as the vendor asks.
        const auth = await vpay88("/merchant/auth", { username: shop.account.username, api_key: shop.account.apiKey });
        if (!auth.status) throw new Error(`auth: ${JSON.stringify(auth)}`);
        const order = await vpay88("/merchant/generate_orders", {
          username: "customer-1", auth: auth.auth, amount: "25", currency: "MYR", orderid: orderId,
          email: "customer@example.com", phone_number: "601012456789",
          redirect_url: `${shop.url}/thanks?order=${encodeURIComponent(orderId)}`,
        });
        if (!order.status) throw new Error(`generate_orders: ${JSON.stringify(order)}`);
        orders.set(orderId, "waiting");
        res.writeHead(303, { location: order.p_url }).end();
      } else if (req.method === "POST" && url.pathname === "/vpay88/callback") {
        let body = "";
        for await (const chunk of req) body += chunk;
        const cb = JSON.parse(body);
        const want = crypto.createHash("md5").update(shop.account.secretKey + String(cb.order_id)).digest("hex");
        const ok = typeof cb.token === "string" && cb.token.length === want.length &&
          crypto.timingSafeEqual(Buffer.from(cb.token.toLowerCase()), Buffer.from(want));
        if (!ok || !orders.has(cb.order_id)) {
          res.writeHead(403).end("bad token");
          return;
        }
        orders.set(cb.order_id, cb.order_status); // idempotent: delivery is at least once
        res.writeHead(200).end("success");
      } else if (req.method === "GET" && url.pathname === "/thanks") {
        const state = orders.get(url.searchParams.get("order"));
        if (!state) {
          res.writeHead(404).end(page("Unknown order", "<p>Unknown order</p>"));
          return;
        }
        const text = { waiting: "Waiting for the payment to be confirmed…", completed: "Thank you! Your payment was received.", fail: "Your payment failed." }[state] ?? state;
        // Until the callback has come, the page looks again every second.
        res.writeHead(200, { "content-type": "text/html" }).end(page("Your order",
          `<h1 data-testid="shop-status" data-state="${state}">${text}</h1>`, state === "waiting"));
      } else {
        res.writeHead(404).end("not found");
      }
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  shop.url = `http://127.0.0.1:${server.address().port}`;
  shop.close = () => new Promise((r) => server.close(r));
  return shop;
}
