"""Vpay88 callback receiver in Python (standard library only).

Answers "success" (HTTP 200) only when the token verifies, that is
token == md5(secret key + order_id), lowercase hex.

    PORT=8080 VPAY88_SECRET=vpay88-test-secret python3 verify.py

Callbacks are delivered at least once: apply them idempotently.
"""
import decimal
import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


def verify_callback(cb, secret):
    """True when cb["token"] is md5(secret + order_id)."""
    if not isinstance(cb, dict) or not isinstance(cb.get("token"), str) or "order_id" not in cb:
        return False
    want = hashlib.md5((secret + str(cb["order_id"])).encode("utf-8")).hexdigest()
    return hmac.compare_digest(want, cb["token"].lower())


class Receiver(BaseHTTPRequestHandler):
    secret = os.environ.get("VPAY88_SECRET", "vpay88-test-secret")

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            # parse_float keeps "amount": 100.0000 exact.
            cb = json.loads(raw, parse_float=decimal.Decimal)
        except ValueError:
            return self.answer(400, b"not JSON")
        if not verify_callback(cb, self.secret):
            return self.answer(403, b"bad token")
        # ... update order cb["order_id"] (cb["type"]: deposit or withdrawal) to cb["order_status"] ...
        return self.answer(200, b"success")

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8080"))), Receiver).serve_forever()
