<?php
// The merchant's callback URL during SandboxTest.php, run by PHP's built-in server:
//
//   CALLBACK_DIR=/tmp/cb php -S 127.0.0.1:8081 callback.php
//
// POST /callback/<name> is the callback URL of one test's merchant. The receiver keeps
// every body in CALLBACK_DIR/<name>.<n>.json for the test to read, and answers as a
// merchant should: "success" (HTTP 200) when the token verifies with the secret key
// the test left in CALLBACK_DIR/<name>.secret, 403 when it does not (the sandbox then
// retries, and its attempt log shows the 403).

declare(strict_types=1);

require __DIR__ . '/vpay88.php';

$dir = getenv('CALLBACK_DIR') ?: sys_get_temp_dir();
$path = (string) parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST' || !preg_match('#^/callback/([A-Za-z0-9_-]{1,64})$#', $path, $m)) {
    http_response_code(404);
    echo "not found";
    return;
}
$name = $m[1];
$raw = file_get_contents('php://input');
// Written aside, then renamed: the test never reads half a body.
$file = sprintf('%s/%s.%s.json', $dir, $name, str_replace('.', '', uniqid('', true)));
file_put_contents("$file.part", $raw);
rename("$file.part", $file);

$secret = @file_get_contents("$dir/$name.secret");
$cb = json_decode($raw, true);
if ($secret === false || !is_array($cb) || !vpay88_verify($cb, $secret)) {
    http_response_code(403);
    echo "bad token";
    return;
}
// A merchant would now update order $cb['order_id'] to $cb['order_status'], once:
// delivery is at least once, so the same callback may come again.
echo "success";
