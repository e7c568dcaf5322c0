// Vpay88 callback receiver in Node.js (no dependencies): answers "success" (HTTP 200)
// only when the token verifies, that is token == md5(secret key + order_id), hex.
//
//   PORT=8080 VPAY88_SECRET=vpay88-test-secret node verify.js
//
// Callbacks are delivered at least once: apply them idempotently.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

function verifyCallback(cb, secret) {
  if (!cb || typeof cb.token !== 'string' || cb.order_id === undefined) return false;
  const want = crypto.createHash('md5').update(secret + String(cb.order_id), 'utf8').digest('hex');
  const got = Buffer.from(cb.token.toLowerCase());
  return got.length === want.length && crypto.timingSafeEqual(got, Buffer.from(want));
}

module.exports = { verifyCallback };

if (require.main === module) {
  const secret = process.env.VPAY88_SECRET || 'vpay88-test-secret';
  http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => {
      let cb;
      try { cb = JSON.parse(raw); } catch { res.writeHead(400).end('not JSON'); return; }
      // JSON.parse makes "amount": 100.0000 the number 100: keep money out of floats
      // if you do arithmetic on it. The token does not involve it.
      if (!verifyCallback(cb, secret)) { res.writeHead(403).end('bad token'); return; }
      // ... update order cb.order_id (cb.type: deposit or withdrawal) to cb.order_status ...
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('success');
    });
  }).listen(Number(process.env.PORT || 8080), '127.0.0.1');
}
