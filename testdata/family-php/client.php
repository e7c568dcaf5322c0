<?php
// A plain PHP cURL merchant of the gateway family (SPEC §7), as such code is written:
// CURLOPT_POSTFIELDS with an array (multipart), json_decode($response, true), a
// pending order read as {"status":false}. Run by family_replay_test.go:
//   php client.php <base URL> <username> <api_key> order|status <orderid>
[$_, $base, $username, $apiKey, $mode, $orderid] = $argv;

function post($url, $fields) {
    $ch = curl_init($url);
    curl_setopt($ch, CURLOPT_POST, true);
    curl_setopt($ch, CURLOPT_POSTFIELDS, $fields);
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    $response = curl_exec($ch);
    if ($response === false) {
        fwrite(STDERR, curl_error($ch) . "\n");
        exit(1);
    }
    curl_close($ch);
    return json_decode($response, true);
}

if ($mode === 'order') {
    $auth = post("$base/merchant/auth", ['username' => $username, 'api_key' => $apiKey]);
    if (empty($auth['status'])) { fwrite(STDERR, "auth: " . json_encode($auth) . "\n"); exit(1); }
    $order = post("$base/merchant/generate_orders", [
        'username' => 'john', 'auth' => $auth['auth'], 'amount' => 100, 'currency' => 'MYR',
        'orderid' => $orderid, 'email' => 'john@example.com', 'phone_number' => '601012456789',
    ]);
    if (empty($order['status']) || empty($order['p_url'])) { fwrite(STDERR, "generate_orders: " . json_encode($order) . "\n"); exit(1); }
}
$st = post("$base/merchant/check_status", ['username' => $username, 'id' => $orderid]);
// This merchant's reading: {"status":false} is a pending order.
if ($st['status'] === false && !isset($st['message'])) {
    echo "pending\n";
} elseif ($st['status'] === true) {
    echo $st['order_status'] . "\n";
} else {
    fwrite(STDERR, "check_status: " . json_encode($st) . "\n");
    exit(1);
}
