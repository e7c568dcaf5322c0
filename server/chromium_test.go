package server_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vpay88/vpay88-sandbox/internal/skipreport"
)

// chromiumOptions finds the browser ($VPAY88_CHROMIUM, Debian's /usr/bin/chromium, or
// chromium on PATH) and returns the allocator options every browser test starts it
// with: headless, a fresh profile, and the flags that keep it off this machine's closed
// network. Without a browser the test skips, saying how to get one (.ci/run installs
// Debian's chromium).
func chromiumOptions(t *testing.T) []chromedp.ExecAllocatorOption {
	t.Helper()
	exe := os.Getenv("VPAY88_CHROMIUM")
	if exe == "" {
		if _, err := os.Stat("/usr/bin/chromium"); err == nil {
			exe = "/usr/bin/chromium"
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if exe != "" {
			break
		}
		if p, err := exec.LookPath(name); err == nil {
			exe = p
		}
	}
	if exe == "" {
		skipreport.Skip(t, "chromium", "the browser tests", "no Chromium (set VPAY88_CHROMIUM or apt-get install chromium)",
			"browser test skipped: no Chromium found (apt-get install chromium, or set VPAY88_CHROMIUM)")
	}
	if _, err := os.Stat(exe); err != nil {
		skipreport.Skip(t, "chromium", "the browser tests", fmt.Sprintf("no Chromium at VPAY88_CHROMIUM=%s", exe),
			fmt.Sprintf("browser test skipped: VPAY88_CHROMIUM=%s: %v", exe, err))
	}
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
}
