<?php
// Vpay88 callback receiver in PHP: answers "success" (HTTP 200) only when the token
// verifies, that is token == md5(secret key . order_id), lowercase hex.
//
//   VPAY88_SECRET=vpay88-test-secret php -S 127.0.0.1:8080 verify.php
//
// Callbacks are delivered at least once: the same callback can arrive again, so
// apply it idempotently (look the order up, change it only while it is pending).

function vpay88_verify(array $cb, string $secret): bool
{
    if (!isset($cb['order_id'], $cb['token']) || !is_string($cb['token'])) {
        return false;
    }
    // hash_equals compares in constant time; (string) keeps a numeric-looking id as sent.
    return hash_equals(md5($secret . (string) $cb['order_id']), strtolower($cb['token']));
}

$secret = getenv('VPAY88_SECRET') ?: 'vpay88-test-secret';
$raw = file_get_contents('php://input');
// json_decode turns "amount": 100.0000 into a float; read money from $raw (or use
// bcmath on the string) if you need it exact. The token does not involve it.
$cb = json_decode($raw, true);
if (!is_array($cb)) {
    http_response_code(400);
    echo "not JSON";
    return;
}
if (!vpay88_verify($cb, $secret)) {
    http_response_code(403);
    echo "bad token";
    return;
}
// ... update order $cb['order_id'] ($cb['type'] is deposit or withdrawal) to $cb['order_status'] ...
echo "success";
