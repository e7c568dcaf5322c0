<?php
// PHPUnit tests of a PHP merchant's Vpay88 calls against a running sandbox.
//
//   vpay88-sandbox --ephemeral &
//   VPAY88_URL=http://127.0.0.1:8088 phpunit docs/ci/php/SandboxTest.php
//
// Needs PHPUnit 9 and the curl extension (Debian: apt-get install phpunit php-curl),
// nothing from Composer. Every test makes a merchant of its own through the sandbox's
// admin API and deletes it in tearDown, so any number of jobs can share one sandbox and
// every test can use the vendor's own order id, Example_123.
//
// The tests start PHP's built-in server on callback.php as their merchants' callback
// URL. When the sandbox runs in a container, set VPAY88_CALLBACK_HOST to the name it
// reaches this machine by (host.docker.internal, or the job's name on the CI network):
// the receiver then listens on 0.0.0.0.

declare(strict_types=1);

require_once __DIR__ . '/vpay88.php';

use PHPUnit\Framework\TestCase;

final class SandboxTest extends TestCase
{
    /** @var resource|null php -S serving callback.php */
    private static $receiver = null;
    /** Where callback.php keeps the bodies it gets. */
    private static string $callbackDir = '';
    /** The receiver's base URL as the sandbox reaches it. */
    private static string $callbackBase = '';

    private string $base = '';
    /** The test's merchant: username, api_key, secret_key, ... as POST /sandbox/api/merchants answered. */
    private ?array $merchant = null;
    /** The last part of the merchant's callback URL. */
    private string $name = '';

    public static function setUpBeforeClass(): void
    {
        if (!extension_loaded('curl') || (string) getenv('VPAY88_URL') === '') {
            return; // setUp skips every test and says why
        }
        self::$callbackDir = sys_get_temp_dir() . '/vpay88-phpunit-' . bin2hex(random_bytes(4));
        mkdir(self::$callbackDir, 0700);
        $host = (string) getenv('VPAY88_CALLBACK_HOST');
        $listen = $host === '' ? '127.0.0.1' : '0.0.0.0';
        $port = self::freePort($listen);
        $log = self::$callbackDir . '/server.log';
        self::$receiver = proc_open(
            array(PHP_BINARY, '-S', "$listen:$port", __DIR__ . '/callback.php'),
            array(0 => array('file', '/dev/null', 'r'), 1 => array('file', $log, 'a'), 2 => array('file', $log, 'a')),
            $pipes,
            self::$callbackDir,
            array('CALLBACK_DIR' => self::$callbackDir) + getenv()
        );
        if (!is_resource(self::$receiver)) {
            throw new RuntimeException('could not start php -S for callback.php');
        }
        $deadline = microtime(true) + 10;
        while (!($c = @fsockopen('127.0.0.1', $port, $errno, $errstr, 0.2))) {
            if (!proc_get_status(self::$receiver)['running'] || microtime(true) > $deadline) {
                throw new RuntimeException("callback receiver did not start on $listen:$port: " . @file_get_contents($log));
            }
            usleep(20000);
        }
        fclose($c);
        self::$callbackBase = 'http://' . ($host === '' ? '127.0.0.1' : $host) . ":$port";
    }

    public static function tearDownAfterClass(): void
    {
        if (self::$receiver !== null) {
            proc_terminate(self::$receiver);
            proc_close(self::$receiver);
            self::$receiver = null;
        }
        if (self::$callbackDir !== '' && is_dir(self::$callbackDir)) {
            array_map('unlink', glob(self::$callbackDir . '/*') ?: array());
            rmdir(self::$callbackDir);
        }
    }

    protected function setUp(): void
    {
        if (!extension_loaded('curl')) {
            self::markTestSkipped('the PHP curl extension is not loaded (Debian: apt-get install php-curl)');
        }
        $base = (string) getenv('VPAY88_URL');
        if ($base === '') {
            self::markTestSkipped('VPAY88_URL is not set: start a sandbox (vpay88-sandbox --ephemeral) and set VPAY88_URL=http://127.0.0.1:8088');
        }
        $this->base = rtrim($base, '/');
        $this->name = bin2hex(random_bytes(6));
        // Every field is optional: the sandbox makes up username, api_key and secret_key.
        [$status, $m] = vpay88_admin('POST', "$this->base/sandbox/api/merchants",
            array('callback_url' => self::$callbackBase . "/callback/$this->name"));
        self::assertSame(201, $status, 'POST /sandbox/api/merchants: ' . json_encode($m));
        $this->merchant = $m;
        // The receiver verifies this merchant's callbacks with its secret key.
        file_put_contents(self::$callbackDir . "/$this->name.secret", $m['secret_key']);
    }

    protected function tearDown(): void
    {
        if ($this->merchant === null) {
            return;
        }
        $username = $this->merchant['username'];
        $this->merchant = null;
        // Deletes the merchant with its tokens, orders, callbacks and balances.
        [$status, $answer] = vpay88_admin('DELETE', "$this->base/sandbox/api/merchants/" . rawurlencode($username));
        self::assertSame(200, $status, "DELETE /sandbox/api/merchants/$username: " . json_encode($answer));
    }

    public function testAuthRefusesAWrongApiKey(): void
    {
        $answer = vpay88_post("$this->base/merchant/auth",
            array('username' => $this->merchant['username'], 'api_key' => 'not-the-key'));
        // The vendor's message for auth has no period (generate_orders' has one).
        self::assertSame(array('status' => false, 'message' => 'Params incorrect'), $answer);
    }

    public function testSuccessEmailCompletesAtOnce(): void
    {
        $answer = $this->deposit('Example_123');
        self::assertTrue($answer['status'], json_encode($answer));
        self::assertStringContainsString('/checkout/order-pay/', $answer['p_url']);

        // success@... is a magic value: the order completed before generate_orders
        // answered, so check_status already sees it.
        $status = vpay88_post("$this->base/merchant/check_status",
            array('username' => $this->merchant['username'], 'id' => 'Example_123'));
        self::assertTrue($status['status'], json_encode($status));
        self::assertSame('completed', $status['order_status']);
        self::assertEquals(100, $status['amount']); // 100.0000 in the JSON: a float here
        self::assertSame('MYR', $status['currency']);
    }

    public function testSameOrderIdAgainIsRefused(): void
    {
        $first = $this->deposit('Example_123');
        self::assertTrue($first['status'], json_encode($first));

        $again = $this->deposit('Example_123');
        self::assertSame(array('status' => false, 'message' => 'Order ID Exist.'), $again);
    }

    public function testCallbackTokenVerifies(): void
    {
        $answer = $this->deposit('Example_123');
        self::assertTrue($answer['status'], json_encode($answer));

        $cb = $this->waitForCallback('Example_123');
        self::assertSame('completed', $cb['order_status']);
        self::assertSame('deposit', $cb['type']);
        self::assertSame('3.0000', $cb['charge']); // 3 % of 100
        // The vendor document: token = MD5(secret key + merchant order id).
        $secret = $this->merchant['secret_key'];
        self::assertSame(md5($secret . 'Example_123'), $cb['token']);
        self::assertTrue(vpay88_verify($cb, $secret));
        self::assertFalse(vpay88_verify(array('token' => md5('another secret' . 'Example_123')) + $cb, $secret), 'a token made with another secret');
        self::assertFalse(vpay88_verify(array('order_id' => 'Example_124') + $cb, $secret), 'a token for another order');

        // And the sandbox saw callback.php acknowledge it (its attempt log, admin API).
        $delivery = array();
        for ($deadline = microtime(true) + 10; microtime(true) < $deadline; usleep(50000)) {
            [$status, $order] = vpay88_admin('GET', "$this->base/sandbox/api/deposits/Example_123?merchant="
                . rawurlencode($this->merchant['username']));
            self::assertSame(200, $status, json_encode($order));
            $delivery = $order['callbacks'][0] ?? array();
            if (($delivery['state'] ?? '') === 'delivered') {
                break;
            }
        }
        self::assertSame('delivered', $delivery['state'] ?? '', json_encode($delivery));
        self::assertSame(200, $delivery['attempt_log'][0]['http_status']);
        self::assertSame('success', $delivery['attempt_log'][0]['answer']);
    }

    /** generate_orders with a fresh auth, as the vendor asks: one auth per order. */
    private function deposit(string $orderid, string $email = 'success@example.com'): array
    {
        return vpay88_post("$this->base/merchant/generate_orders", array(
            'username' => 'john', // the customer
            'auth' => $this->auth(),
            'amount' => 100,
            'currency' => 'MYR',
            'orderid' => $orderid,
            'email' => $email,
            'phone_number' => '601012456789',
        ));
    }

    private function auth(): string
    {
        $answer = vpay88_post("$this->base/merchant/auth",
            array('username' => $this->merchant['username'], 'api_key' => $this->merchant['api_key']));
        self::assertTrue($answer['status'], 'auth: ' . json_encode($answer));
        self::assertSame(20, strlen($answer['auth']));
        return $answer['auth'];
    }

    /** The first callback callback.php got for this test's merchant and order. */
    private function waitForCallback(string $orderid): array
    {
        $deadline = microtime(true) + 10;
        do {
            foreach (glob(self::$callbackDir . "/$this->name.*.json") ?: array() as $file) {
                $cb = json_decode((string) file_get_contents($file), true);
                if (is_array($cb) && ($cb['order_id'] ?? null) === $orderid) {
                    return $cb;
                }
            }
            usleep(20000);
        } while (microtime(true) < $deadline);
        self::fail("no callback for $orderid within 10 s at " . self::$callbackBase . "/callback/$this->name; receiver log:\n"
            . @file_get_contents(self::$callbackDir . '/server.log'));
    }

    private static function freePort(string $host): int
    {
        $server = stream_socket_server("tcp://$host:0", $errno, $errstr);
        if ($server === false) {
            throw new RuntimeException("no free port on $host: $errstr");
        }
        $name = stream_socket_get_name($server, false);
        fclose($server);
        return (int) substr($name, strrpos($name, ':') + 1);
    }
}
