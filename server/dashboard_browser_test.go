package server_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

// browser is a headless Chromium tab driven by one test; its helpers fail the test on
// the first error, so a step reads as one line.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	jsErrors []string // uncaught exceptions and console.error calls of the page
}

// mustBrowser starts a headless Chromium with a 1366x768 window (the laptop screen the
// dashboard is laid out for); every step is bounded by timeout. The test is skipped,
// saying why, when no browser is installed.
func mustBrowser(t *testing.T, timeout time.Duration) *browser {
	t.Helper()
	opts := append(chromiumOptions(t), chromedp.WindowSize(1366, 768))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first Do starts the browser and must not carry the timeout (it would stop the
	// browser); the steps after it run under the test's deadline.
	require.NoError(t, chromedp.Do(bctx, chromedp.EmulateViewport(1366, 768)), "start Chromium")
	ctx, cancel := context.WithTimeout(bctx, timeout)
	t.Cleanup(cancel)
	b := &browser{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Log entries (a 401 the page expects, say) have no Args; a script's own
			// console.error and an uncaught exception are bugs.
			if m.IsException() || (m.Type == chromedp.ConsoleError && len(m.Args) > 0) {
				b.mu.Lock()
				b.jsErrors = append(b.jsErrors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// noScriptErrors fails the test if the page threw or logged an error so far.
func (b *browser) noScriptErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Empty(b.t, b.jsErrors, "the dashboard's script failed")
}

// do runs steps in order and fails the test at the first error, naming the page's
// script errors so far (a module that fails to load leaves a step waiting forever).
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		require.NoError(b.t, err, "script errors: %q", b.jsErrors)
	}
}

// text is the visible text of the first element that matches a CSS selector.
func (b *browser) text(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(b.t, err, "text of %s", css)
	return s
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, "evaluate %s", expr)
	return v
}

// shot saves a 1366x768 screenshot as $VPAY88_SHOTS/<name>.png when that variable names
// a folder; without it, screenshots are not taken.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("VPAY88_SHOTS")
	if dir == "" {
		return
	}
	b.do(chromedp.Sleep(300 * time.Millisecond)) // let the row highlight and toasts settle
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	require.NoError(b.t, os.MkdirAll(dir, 0o755))
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// Short names for the steps, all by CSS selector.
func visible(css string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(css))
}
func gone(css string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitNotVisible(chromedp.CSS(css))
}
func enabled(css string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitEnabled(chromedp.CSS(css))
}
func click(css string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(css)) }
func keys(css, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(css), v)
}
func setValue(css, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.CSS(css), v)
}

// TestDashboardBrowser drives the dashboard in a real browser: an order made through the
// vendor API appears without a reload, is settled from its drawer, and the callback's
// attempt with the merchant's 200 shows up; then the other tabs do their jobs.
func TestDashboardBrowser(t *testing.T) {
	recv := newRecorder(t, nil)
	env := MustOpenEnv(t, func(c *config.Config) {
		c.Merchants[0].CallbackURL = recv.URL
		// The withdrawal must still be pending when the test settles it from the page.
		c.WithdrawalDelay = scenarios.Duration(time.Hour)
	})
	b := mustBrowser(t, 90*time.Second)
	// As a browser without JSON.parse source access (the reviver's third argument) would:
	// the exact amounts below must not depend on it.
	_, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `{ const parse = JSON.parse; JSON.parse = (t, r) => parse(t, r && function (k, v) { return r.call(this, k, v); }); }`})
	require.NoError(t, err)

	b.do(chromedp.Navigate(env.URL+"/sandbox/"), visible(`#orders-empty`), visible(`#live[data-mode="live"]`))
	// A reload would lose this; the orders below must appear without one.
	eval[string](b, `window.__noReload = "same page"`)
	b.shot("01-empty")

	env.Deposit(t, "DASH-1001", map[string]string{"username": `<img src=x onerror="window.__xss=1">Ali`, "amount": "300"})
	env.Withdraw(t, "PAYOUT-77", map[string]string{"holder_name": "SUK THAWAR", "amount": "25"})
	env.Deposit(t, "DASH-1002", map[string]string{"amount": "25.5", "currency": "THB", "bank_id": "3"})
	_, _ = env.PostMultipart(t, "/merchant/generate_orders", map[string]string{"username": "x"}) // Params missing.

	row := `#orders-table tbody tr[data-order-id="DASH-1001"]`
	b.do(visible(row), visible(`#orders-table tbody tr[data-order-id="PAYOUT-77"]`))
	assert.Equal(t, "same page", eval[string](b, `window.__noReload`), "the order appeared through a reload")
	assert.Equal(t, `<img src=x onerror="window.__xss=1">Ali`, b.text(row+` td:nth-child(8)`), "customer name shows as text")
	assert.Zero(t, eval[int](b, `document.querySelectorAll("#orders-table img").length`), "markup in data became elements")
	b.shot("02-orders")

	// Open it, settle it, see the callback attempt with the merchant's 200.
	b.do(click(row), visible(`#drawer`), visible(`#act-checkout`), enabled(`#act-settle`))
	b.shot("03-drawer-pending")
	attempt := `#drawer-callbacks tr.attempt[data-http-status="200"]`
	b.do(keys(`#act-name`, "ALI BIN ABU"), click(`#act-settle`), visible(attempt))
	assert.Equal(t, "completed", b.text(`#drawer-status`))
	assert.Contains(t, b.text(`#drawer-fields`), "MYR 300.0000", "amounts show the four decimals the gateway sent")
	assert.Contains(t, b.text(attempt+` td.answer`), "success", "the merchant's answer")
	cb := b.text(`#drawer-callbacks`)
	assert.Contains(t, cb, `"amount": 300.0000`, "callback body pretty-printed with the exact amount")
	assert.Contains(t, cb, `"name": "ALI BIN ABU"`)
	assert.Equal(t, "DASH-1001", decode(t, recv.wait(t, 1, 5*time.Second)[0].Body)["order_id"])
	b.do(visible(row + ` .badge.s-completed`)) // the list follows too, without a reload
	assert.Equal(t, "same page", eval[string](b, `window.__noReload`))
	b.shot("04-drawer-settled")

	// Withdrawal: name mismatch from the drawer.
	b.do(click(`#orders-table tbody tr[data-order-id="PAYOUT-77"]`), visible(`#act-mismatch`), enabled(`#act-mismatch`),
		click(`#act-mismatch`), visible(`#drawer-status.s-fail`), visible(`#drawer-callbacks tr.attempt[data-http-status="200"]`))
	assert.Contains(t, b.text(`#drawer-callbacks`), "Account Holder Name Mismatch")
	b.shot("05-withdrawal-mismatch")
	// Reverse it from the drawer: the failed payout completes, with a second callback.
	b.do(visible(`#act-reverse`), enabled(`#act-reverse`), click(`#act-reverse`), visible(`#drawer-status.s-completed`),
		visible(`#drawer-callbacks .cb-card:nth-of-type(2)`))
	assert.Contains(t, b.text(`#act-note`), "reversed 1×")
	b.do(click(`#drawer-close`), gone(`#drawer`))

	// Journal: the vendor requests, newest first; a click shows the answer.
	b.do(click(`#tab-journal`), visible(`#journal-table tbody tr[data-id]`), click(`#journal-table tbody tr[data-id]`),
		visible(`#journal-table tr.detail pre.code`))
	journal := b.text(`#journal-table`)
	assert.Contains(t, journal, "/merchant/generate_orders")
	assert.Contains(t, journal, "Params missing.")
	assert.NotContains(t, journal, "Not Found", "the page's own requests (a favicon) must not land in the journal")
	b.shot("06-journal")

	// Callbacks log: the deliveries, one expanded.
	b.do(click(`#tab-callbacks`), visible(`#callbacks-table tbody tr[data-id] .badge.s-delivered`),
		click(`#callbacks-table tbody tr[data-id]`), visible(`#callbacks-table tr.detail tr.attempt[data-http-status="200"]`))
	b.shot("07-callbacks")

	// Balances: set MYR available from the page; the store agrees.
	in := `input[aria-label="Available vpay88-test MYR"]`
	b.do(click(`#tab-balances`), visible(in), setValue(in, "1234.5"), keys(in, "\r"))
	myr := func() string {
		bals, err := env.Store.Balances(testMerchant)
		require.NoError(t, err)
		for _, bal := range bals {
			if bal.Currency == "MYR" {
				return bal.Available.String()
			}
		}
		return "no MYR balance"
	}
	require.Eventually(t, func() bool { return myr() == "1234.5000" }, 5*time.Second, 20*time.Millisecond, "MYR available: %s", myr())
	b.do(visible(`#balances-table tr:first-child input.num-input:not(.edited)`))
	b.shot("08-balances")

	// Scenarios: a bad file shows the server's reason and changes nothing; a good one saves.
	b.do(click(`#tab-scenarios`), visible(`#scenarios-yaml`),
		setValue(`#scenarios-yaml`, "- name: broken\n  effect:\n    outcome: exploded\n"),
		click(`#scenarios-save`), visible(`#scenarios-status.error`))
	assert.Contains(t, b.text(`#scenarios-status`), "previous rules stay")
	b.do(visible(`#scenarios-gutter .err-line`)) // the line the server names
	assert.Equal(t, "3", b.text(`#scenarios-gutter .err-line`))
	b.shot("09-scenarios-error")
	// YAML that does not parse: the reason names its line too.
	// The previous error marked line 3; wait for this answer's line 2, and for the save
	// button to be enabled again, or the next click lands on a disabled button while
	// this request is still in flight (a flake seen under load).
	b.do(setValue(`#scenarios-yaml`, "- name: x\n  match: [\n"), click(`#scenarios-save`),
		visible(`#scenarios-gutter[data-err="2"] .err-line`), enabled(`#scenarios-save`))
	b.shot("09b-scenarios-yaml-error")
	b.do(setValue(`#scenarios-yaml`, "- name: big fail\n  match:\n    kind: deposit\n    amount_min: 5000\n  effect:\n    outcome: fail\n"),
		click(`#scenarios-save`), visible(`#scenarios-status.ok`))
	assert.Equal(t, "1 rule in force", b.text(`#scenarios-count`))
	b.shot("10-scenarios-saved")
	// An emptied editor clears the rules: the page sends `rules: []`, as the API refuses
	// an empty body. Then the rule again, for the steps below.
	eval[bool](b, `(document.querySelector('#scenarios-yaml').value = '', true)`) // chromedp cannot set ""
	b.do(click(`#scenarios-save`), hasText(`#scenarios-count`, "none in force"), hasText(`#scenarios-status`, "no rules in force"))
	b.do(setValue(`#scenarios-yaml`, "- name: big fail\n  match:\n    kind: deposit\n    amount_min: 5000\n  effect:\n    outcome: fail\n"),
		click(`#scenarios-save`), hasText(`#scenarios-count`, "1 rule in force"))

	// Reset, after a confirm: the orders list empties.
	b.do(click(`#tab-orders`), visible(row), click(`#reset-btn`), visible(`#reset-dialog`))
	b.shot("11-reset-confirm")
	b.do(click(`#reset-confirm`), visible(`#orders-empty`))
	assert.False(t, eval[bool](b, `window.__xss === 1`), "data ran as script")
	list, err := env.Store.ListOrders(store.OrderFilter{})
	require.NoError(t, err)
	assert.Zero(t, list.Total, "reset left orders")
	b.noScriptErrors()
}

// TestDashboardBrowserAdminToken runs the sandbox with --admin-token: the page asks for
// the token, then loads and goes live (the event stream takes it as ?token=).
func TestDashboardBrowserAdminToken(t *testing.T) {
	cfg := config.Default()
	cfg.Callbacks.Schedule = config.FastSchedule()
	st, err := store.Open(filepath.Join(t.TempDir(), "sandbox.db"))
	require.NoError(t, err)
	srv, err := server.New(server.Options{Config: cfg, Store: st, Seed: 7, AdminToken: "s3cret-token"})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); _ = srv.Close(); _ = st.Close() })
	env := &testEnv{URL: hs.URL, Srv: srv, Store: st, Cfg: cfg}
	b := mustBrowser(t, 60*time.Second)

	b.do(chromedp.Navigate(hs.URL+"/sandbox"), visible(`#token-dialog`)) // through the redirect to /sandbox/
	b.shot("12-token")
	env.Deposit(t, "TOKEN-1", nil)
	b.do(keys(`#token-input`, "s3cret-token"), click(`#token-save`),
		visible(`#orders-table tbody tr[data-order-id="TOKEN-1"]`), visible(`#live[data-mode="live"]`))
	assert.Equal(t, "Live", b.text(`#live`))
	env.Deposit(t, "TOKEN-2", nil)
	b.do(visible(`#orders-table tbody tr[data-order-id="TOKEN-2"]`))
	b.noScriptErrors()
}

// TestDashboardBrowserPolling takes EventSource away from the page: it falls back to
// polling every 2 s, says so, and still shows new orders and settlements without a reload.
func TestDashboardBrowserPolling(t *testing.T) {
	recv := newRecorder(t, nil)
	env := MustOpenEnv(t, func(c *config.Config) { c.Merchants[0].CallbackURL = recv.URL })
	b := mustBrowser(t, 60*time.Second)
	_, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.EventSource = undefined;`})
	require.NoError(t, err)

	b.do(chromedp.Navigate(env.URL+"/sandbox/"), visible(`#live[data-mode="polling"]`), visible(`#orders-empty`))
	assert.Equal(t, "Polling every 2 s", b.text(`#live`))
	env.Deposit(t, "POLL-1", nil)
	row := `#orders-table tbody tr[data-order-id="POLL-1"]`
	b.do(visible(row), click(row), enabled(`#act-settle`))
	env.PostForm(t, "/sandbox/api/deposits/POLL-1/settle", map[string]string{"outcome": "fail", "remarks": "declined"})
	b.do(visible(`#drawer-status.s-fail`), visible(`#drawer-callbacks tr.attempt[data-http-status="200"]`), visible(row+` .badge.s-fail`))
	b.noScriptErrors()
}

// TestDashboardPage checks the page and its assets without a browser: the redirect, the
// security headers, and the versioned static files.
func TestDashboardPage(t *testing.T) {
	env := MustOpenEnv(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := noFollow.Get(env.URL + "/sandbox")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "/sandbox/", resp.Header.Get("Location"))

	resp, err = http.Get(env.URL + "/sandbox/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	assert.NotContains(t, string(page), "https://", "no external CDN")

	// The example rules the Scenarios tab shows are rules the sandbox accepts.
	_, after, ok := strings.Cut(string(page), "<h4>Example</h4>\n<pre>")
	require.True(t, ok, "the page shows example rules")
	example, _, _ := strings.Cut(after, "</pre>")
	req, err := http.NewRequest(http.MethodPut, env.URL+"/sandbox/api/scenarios", strings.NewReader(html.UnescapeString(example)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/yaml")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "example rules refused: %s", body)

	// The stylesheet and the entry module are linked under one version, and the modules
	// the entry imports (by relative URLs) resolve under it too: every one is served, as
	// JavaScript (a browser refuses a module of another type), and cached for good.
	assert.Contains(t, string(page), `<script type="module" src="/sandbox/static/`)
	i := strings.Index(string(page), "/sandbox/static/")
	require.GreaterOrEqual(t, i, 0, "page links its assets")
	prefix, _, _ := strings.Cut(string(page[i:]), `"`)
	prefix = prefix[:strings.LastIndexByte(prefix, '/')+1] // /sandbox/static/<version>/
	assert.Regexp(t, `^/sandbox/static/[0-9a-f]{12}/$`, prefix)
	assert.Contains(t, string(page), prefix+"dashboard.css")
	assert.Contains(t, string(page), prefix+"dashboard.js")
	importRe := regexp.MustCompile(`(?m)^import .* from '\./([a-z]+\.js)';$`)
	queue, seen := []string{"dashboard.js", "dashboard.css"}, map[string]bool{}
	for len(queue) > 0 {
		asset := queue[0]
		queue = queue[1:]
		if seen[asset] {
			continue
		}
		seen[asset] = true
		resp, err := http.Get(env.URL + prefix + asset)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, asset)
		assert.Contains(t, resp.Header.Get("Cache-Control"), "immutable", asset)
		if strings.HasSuffix(asset, ".js") {
			assert.Contains(t, resp.Header.Get("Content-Type"), "javascript", asset)
			for _, m := range importRe.FindAllStringSubmatch(string(body), -1) {
				queue = append(queue, m[1])
			}
		}
	}
	assert.Greater(t, len(seen), 5, "the entry module imports the views: %v", seen)
	resp, err = http.Get(env.URL + "/sandbox/static/dashboard.js") // unversioned: revalidated
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
}
