// Package ci_test runs the PHP merchants' CI example of this folder, php/SandboxTest.php,
// with Debian's PHPUnit against an in-process sandbox, so the recipe README.md shows
// stays true. Without phpunit or PHP's curl extension it skips, and says which is
// missing (CI installs both: apt-get install phpunit php-curl).
package ci_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/internal/skipreport"
)

func TestMain(m *testing.M) { skipreport.Main(m) }

func TestPHPUnitExample(t *testing.T) {
	phpunit, err := exec.LookPath("phpunit")
	if err != nil {
		skipreport.Skip(t, "phpunit", "the PHPUnit example", "phpunit is not installed (apt-get install phpunit php-curl)",
			"PHPUnit example not run: phpunit is not installed (Debian: apt-get install phpunit php-curl)")
	}
	// phpunit runs on the php it was installed with; that one needs curl.
	if out, err := exec.Command("php", "-r", "exit(extension_loaded('curl') ? 0 : 1);").CombinedOutput(); err != nil {
		skipreport.Skip(t, "php-curl", "the PHPUnit example", "PHP's curl extension is not loaded (apt-get install php-curl)",
			fmt.Sprintf("PHPUnit example not run: the PHP curl extension is not loaded (Debian: apt-get install php-curl): %v %s", err, out))
	}
	dir, err := os.Getwd()
	require.NoError(t, err)

	sb, err := inproc.Start(inproc.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(sb.Close)

	// --fail-on-skipped: a test that skips (no VPAY88_URL, no curl) must not pass here.
	// --do-not-cache-result: PHPUnit would write .phpunit.result.cache into the folder.
	cmd := exec.Command(phpunit, "--colors=never", "--do-not-cache-result", "--fail-on-skipped",
		filepath.Join(dir, "php", "SandboxTest.php"))
	cmd.Dir = t.TempDir()
	cmd.Env = append(withoutVpay88(os.Environ()), "VPAY88_URL="+sb.URL)
	out, err := cmd.CombinedOutput()
	t.Logf("phpunit php/SandboxTest.php against %s:\n%s", sb.URL, out)
	require.NoError(t, err, "phpunit failed")
	require.Contains(t, string(out), "OK (", "phpunit ran no test")
}

// withoutVpay88 drops the VPAY88_* variables of the calling environment (a CI job's
// VPAY88_URL or VPAY88_CALLBACK_HOST for a sandbox in a container), so SandboxTest.php
// talks to this test's sandbox on loopback only.
func withoutVpay88(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "VPAY88_") {
			out = append(out, kv)
		}
	}
	return out
}

// TestVendorExampleCorrected runs docs/php/deposit_thb.php, the vendor document's THB
// deposit example with the corrections the README lists, against a sandbox: as
// written in the document it does not run (a missing comma, an undefined $bank_id,
// curl_init($url) where $apiurl is defined).
func TestVendorExampleCorrected(t *testing.T) {
	if _, err := exec.LookPath("php"); err != nil {
		skipreport.Skip(t, "php", "the corrected vendor example", "php is not installed (apt-get install php-cli php-curl)",
			"corrected vendor example not run: php is not installed (Debian: apt-get install php-cli php-curl)")
	}
	if out, err := exec.Command("php", "-r", "exit(extension_loaded('curl') ? 0 : 1);").CombinedOutput(); err != nil {
		skipreport.Skip(t, "php-curl", "the corrected vendor example", "PHP's curl extension is not loaded (apt-get install php-curl)",
			fmt.Sprintf("corrected vendor example not run: the PHP curl extension is not loaded (Debian: apt-get install php-curl): %v %s", err, out))
	}
	sb, err := inproc.Start(inproc.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	cmd := exec.Command("php", filepath.Join("..", "php", "deposit_thb.php"))
	cmd.Env = append(withoutVpay88(os.Environ()), "VPAY88_URL="+sb.URL)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), `{"status":true,"p_url":"`+sb.URL+`/checkout/order-pay/`)
}
