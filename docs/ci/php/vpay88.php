<?php
// Vpay88 calls as a PHP merchant makes them, and the callback check, shared by
// SandboxTest.php and callback.php. Plain PHP with the curl extension: no Composer.

declare(strict_types=1);

/**
 * POSTs $send to a vendor endpoint exactly as the vendor document's PHP examples do:
 * CURLOPT_POSTFIELDS with an array, so curl sends multipart/form-data. Returns the
 * decoded JSON answer; throws when there is no answer or it is not JSON.
 */
function vpay88_post(string $url, array $send): array
{
    $curl = curl_init($url);
    curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);
    curl_setopt($curl, CURLOPT_HEADER, false);
    curl_setopt($curl, CURLOPT_POST, true);
    curl_setopt($curl, CURLOPT_TIMEOUT, 30); // the vendor's examples say 400; a test should not wait that long
    curl_setopt($curl, CURLOPT_POSTFIELDS, $send);
    // As the vendor's examples: curl keeps this type and adds the boundary itself.
    curl_setopt($curl, CURLOPT_HTTPHEADER, array("Content-Type: multipart/form-data"));
    $response = curl_exec($curl);
    $error = curl_error($curl);
    curl_close($curl);
    if ($response === false) {
        throw new RuntimeException("POST $url: $error");
    }
    $answer = json_decode($response, true);
    if (!is_array($answer)) {
        throw new RuntimeException("POST $url: not JSON: $response");
    }
    return $answer;
}

/**
 * Calls the sandbox's admin API (JSON, not the vendor's API: the real gateway has no
 * such thing). Returns [HTTP status, decoded answer]. VPAY88_ADMIN_TOKEN, when set, is
 * sent as the bearer token a sandbox started with --admin-token wants.
 */
function vpay88_admin(string $method, string $url, ?array $json = null): array
{
    $headers = array("Accept: application/json");
    $token = getenv('VPAY88_ADMIN_TOKEN');
    if ($token !== false && $token !== '') {
        $headers[] = "Authorization: Bearer $token";
    }
    $curl = curl_init($url);
    curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);
    curl_setopt($curl, CURLOPT_CUSTOMREQUEST, $method);
    curl_setopt($curl, CURLOPT_TIMEOUT, 30);
    if ($json !== null) {
        $headers[] = "Content-Type: application/json";
        curl_setopt($curl, CURLOPT_POSTFIELDS, json_encode((object) $json));
    }
    curl_setopt($curl, CURLOPT_HTTPHEADER, $headers);
    $response = curl_exec($curl);
    $error = curl_error($curl);
    $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    curl_close($curl);
    if ($response === false) {
        throw new RuntimeException("$method $url: $error");
    }
    $answer = json_decode($response, true);
    return array($status, is_array($answer) ? $answer : array('raw' => $response));
}

/**
 * Checks a callback as the vendor document says: token = MD5(secret key . the
 * merchant's order id), lowercase hex. The same check as docs/verify/verify.php.
 */
function vpay88_verify(array $cb, string $secret): bool
{
    if (!isset($cb['order_id'], $cb['token']) || !is_string($cb['token'])) {
        return false;
    }
    // hash_equals compares in constant time; (string) keeps a numeric-looking id as sent.
    return hash_equals(md5($secret . (string) $cb['order_id']), strtolower($cb['token']));
}
