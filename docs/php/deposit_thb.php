<?php
// The vendor's THB deposit example, corrected: four changes, marked.
$base = getenv('VPAY88_URL') ?: 'http://127.0.0.1:8088';

// 1. A fresh token from /merchant/auth, not the document's sample "t5IF5r2fXit1FnhjBVQv".
$curl = curl_init("$base/merchant/auth");
curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);
curl_setopt($curl, CURLOPT_POST, true);
curl_setopt($curl, CURLOPT_POSTFIELDS, array('username' => 'vpay88-test', 'api_key' => 'EPSOWM0eewwrwer0OfUo'));
$auth = json_decode(curl_exec($curl), true)['auth'];
curl_close($curl);

$username = "john";
$amount = 100;
$currency = "THB";
$orderid = "Example_" . time();
$email = "john@example.com";   // 2. a real address: the page showed "[email protected]", Cloudflare's hidden email
$phone_number = "601012456789";
$bank_id = "1";                // 3. defined: take it from /wallet/bank_list (THB and IDR only)

$send = array(
	  'username' => $username,
	  'auth' => $auth,
	  'amount' => $amount,
	  'currency' => $currency,
	  'orderid' => $orderid,
	  'email' => $email,
	  'phone_number' => $phone_number,   // 4. the comma the document leaves out
	  'bank_id' => $bank_id
	);

$apiurl = "$base/merchant/generate_orders";
$curl = curl_init($apiurl);             // 5. $apiurl: the document defines $apiurl and calls curl_init($url)
curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);
curl_setopt($curl, CURLOPT_HEADER, false);
curl_setopt($curl, CURLOPT_POST, true);
curl_setopt($curl, CURLOPT_TIMEOUT, 400);
curl_setopt($curl, CURLOPT_POSTFIELDS, $send);
curl_setopt($curl, CURLOPT_HTTPHEADER, array("Content-Type: multipart/form-data"));
$response = curl_exec($curl);
curl_close($curl);
echo $response, "\n";
