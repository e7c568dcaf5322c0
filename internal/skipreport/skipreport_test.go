package skipreport

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { Main(m) }

func TestReportLine(t *testing.T) {
	var r Report
	assert.Empty(t, r.Line(), "nothing skipped, nothing said")
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { r.Add("the browser tests", "no Chromium (set VPAY88_CHROMIUM)") })
	}
	wg.Wait()
	r.Add("the php snippet", "php is not installed (apt-get install php-cli php-curl)")
	assert.Equal(t, "vpay88-sandbox: skipped the browser tests (3): no Chromium (set VPAY88_CHROMIUM); "+
		"the php snippet (1): php is not installed (apt-get install php-cli php-curl)", r.Line())
}

// TestSkipHelper is run by TestMainPrintsOnce in a child process: three tests' worth
// of skips for one reason and one for another.
func TestSkipHelper(t *testing.T) {
	if os.Getenv("SKIPREPORT_CHILD") == "" {
		t.SkipNow() // a plain t.Skip: not a missing tool, so not reported
	}
	for i := range 3 {
		t.Run("browser", func(t *testing.T) {
			Skip(t, "chromium", "the browser tests", "no Chromium", "browser test skipped "+string(rune('a'+i)))
		})
	}
	t.Run("php", func(t *testing.T) { Skip(t, "php", "the php snippet", "php is not installed", "php snippet not run") })
}

// TestMainPrintsOnce runs this package's test binary as `go test` does and checks that
// its output ends with one summary line, while each test keeps its own skip message.
func TestMainPrintsOnce(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSkipHelper$", "-test.v")
	cmd.Env = append(withoutSettings(os.Environ()), "SKIPREPORT_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, 1, strings.Count(string(out), "vpay88-sandbox: skipped"), "%s", out)
	assert.Contains(t, string(out), "vpay88-sandbox: skipped the browser tests (3): no Chromium; the php snippet (1): php is not installed\n")
	assert.Contains(t, string(out), "browser test skipped b", "the test's own message stays")

	cmd = exec.Command(os.Args[0], "-test.run", "^TestReportLine$")
	cmd.Env = withoutSettings(os.Environ())
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.NotContains(t, string(out), "vpay88-sandbox:", "a run that skipped nothing says nothing")
}

// withoutSettings drops VPAY88_REQUIRE and VPAY88_SKIP_REPORT from env: the CI run
// that runs these tests sets them for its own packages.
func withoutSettings(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, RequireEnv+"=") && !strings.HasPrefix(kv, ReportEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestRequireTurnsSkipIntoFailure: with VPAY88_REQUIRE naming a tool, a test that
// would skip for want of it fails, saying so; the other skips stay skips. With "all",
// every one fails.
func TestRequireTurnsSkipIntoFailure(t *testing.T) {
	for _, tc := range []struct {
		require   string
		fails     []string
		stillSkip bool
	}{
		{"chromium", []string{"browser test skipped a"}, true},
		{"php, phpunit", []string{"php snippet not run"}, true},
		{"all", []string{"browser test skipped a", "php snippet not run"}, false},
	} {
		t.Run(tc.require, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestSkipHelper$", "-test.v")
			cmd.Env = append(withoutSettings(os.Environ()), "SKIPREPORT_CHILD=1", RequireEnv+"="+tc.require)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the run must fail:\n%s", out)
			for _, f := range tc.fails {
				assert.Contains(t, string(out), f+": ", "%s", out)
			}
			assert.Contains(t, string(out), RequireEnv+"="+tc.require+" requires", "%s", out)
			assert.Equal(t, tc.stillSkip, strings.Contains(string(out), "--- SKIP"), "%s", out)
		})
	}
}

// TestReportFile: with VPAY88_SKIP_REPORT set, each package run appends its line to
// the file, which CI prints: go test ./... hides a passing package's output.
func TestReportFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skips.txt")
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestSkipHelper$")
		cmd.Env = append(withoutSettings(os.Environ()), "SKIPREPORT_CHILD=1", ReportEnv+"="+path)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	line := "vpay88-sandbox: skipped the browser tests (3): no Chromium; the php snippet (1): php is not installed\n"
	assert.Equal(t, line+line, string(b))
}
