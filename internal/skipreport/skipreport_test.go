package skipreport

import (
	"os"
	"os/exec"
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
			Skip(t, "the browser tests", "no Chromium", "browser test skipped "+string(rune('a'+i)))
		})
	}
	t.Run("php", func(t *testing.T) { Skip(t, "the php snippet", "php is not installed", "php snippet not run") })
}

// TestMainPrintsOnce runs this package's test binary as `go test` does and checks that
// its output ends with one summary line, while each test keeps its own skip message.
func TestMainPrintsOnce(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSkipHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "SKIPREPORT_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, 1, strings.Count(string(out), "vpay88-sandbox: skipped"), "%s", out)
	assert.Contains(t, string(out), "vpay88-sandbox: skipped the browser tests (3): no Chromium; the php snippet (1): php is not installed\n")
	assert.Contains(t, string(out), "browser test skipped b", "the test's own message stays")

	cmd = exec.Command(os.Args[0], "-test.run", "^TestReportLine$")
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.NotContains(t, string(out), "vpay88-sandbox:", "a run that skipped nothing says nothing")
}
