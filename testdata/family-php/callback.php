<?php
// The plain PHP merchant's callback handler (SPEC §7: it strips a json= prefix), run
// under `php -S` by family_replay_test.go. SECRET and OUT come from the environment;
// what it applied (or why not) is appended to OUT as one JSON line.
$secret = getenv('SECRET');
$raw = file_get_contents('php://input');
if (strpos($raw, 'json=') === 0) {
    $raw = substr($raw, 5);
}
$cb = json_decode($raw, true);
$result = ['applied' => false];
if (!is_array($cb)) {
    $result['problem'] = 'not JSON: ' . $raw;
    http_response_code(400);
} elseif (md5($secret . $cb['order_id']) !== $cb['token']) {
    $result['problem'] = 'token';
    http_response_code(403);
} elseif (isset($_POST['json']) && json_decode($_POST['json'], true) != $cb) {
    $result['problem'] = "\$_POST['json'] is another callback";
    http_response_code(400);
} else {
    $result = ['applied' => true, 'order_id' => $cb['order_id'], 'order_status' => $cb['order_status'], 'amount' => $cb['amount']];
    echo '{}';
}
file_put_contents(getenv('OUT'), json_encode($result) . "\n", FILE_APPEND | LOCK_EX);
