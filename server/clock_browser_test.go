package server_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server"
)

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hasText waits until the text of the first element that matches css contains want.
func hasText(css, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector(%s)?.textContent || "").includes(%s)`, js(css), js(want)),
		chromedp.WithPollingTimeout(15*time.Second))
}

// shows waits until an element that matches css is in the page and shown. Unlike
// visible, it sees a row that a refresh rebuilt after the wait began.
func shows(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector(%s);
		return !!el && !el.closest("[hidden]") && el.getClientRects().length > 0; })()`, js(css)),
		chromedp.WithPollingTimeout(15*time.Second))
}

// absent waits until no element matches css (gone waits for one that is hidden).
func absent(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%s) === null`, js(css)),
		chromedp.WithPollingTimeout(15*time.Second))
}

// choose sets a select (or input) as a reader does: the value, then a change event.
func (b *browser) choose(css, v string) {
	b.t.Helper()
	ok := eval[bool](b, fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.value = %s;
		el.dispatchEvent(new Event("change", { bubbles: true })); return el.value === %s; })()`, js(css), js(v), js(v)))
	require.True(b.t, ok, "%s has no option %q", css, v)
}

// noOverflow fails the test when, in the 1366 px window, the page is wider than the
// window, the header or the tab shown scrolls sideways, or a control of the header,
// the clock panel or the faults forms sticks out of the window or is cut short.
func (b *browser) noOverflow(where string) {
	b.t.Helper()
	over := eval[[]string](b, `(() => {
		const w = document.documentElement.clientWidth, out = [];
		const name = (el) => el.id || el.getAttribute("name") || el.className || el.tagName;
		if (document.documentElement.scrollWidth > w) out.push("page is " + document.documentElement.scrollWidth + " px wide");
		for (const sel of [".top", ".fault-forms", ".clock-panel", "#panel-faults .tablewrap", "#panel-faults .filters"]) {
			const el = document.querySelector(sel);
			if (el && !el.closest("[hidden]") && el.scrollWidth > el.clientWidth + 1) out.push(sel + " scrolls sideways: " + el.scrollWidth + " > " + el.clientWidth);
		}
		for (const el of document.querySelectorAll(".top *, .fault-forms *")) {
			const r = el.getBoundingClientRect();
			if (el.closest("[hidden]") || r.width === 0) continue;
			if (r.right > w + 0.5 || r.left < -0.5) out.push(name(el) + " at " + Math.round(r.left) + ".." + Math.round(r.right));
		}
		for (const el of document.querySelectorAll(".clock-now, .tabs button")) {
			if (!el.closest("[hidden]") && el.scrollWidth > el.clientWidth + 1) out.push(name(el) + " is cut short");
		}
		return out;
	})()`)
	assert.Empty(b.t, over, "%s: the dashboard does not fit 1366 px", where)
}

// clockNow reads GET /sandbox/api/clock.
func (e *testEnv) clockNow(tb testing.TB) server.ClockView {
	tb.Helper()
	var v server.ClockView
	getJSON(tb, e.URL+"/sandbox/api/clock", &v)
	return v
}

// headerTime reads the sandbox time the header shows and its note ("+1h, frozen").
func (b *browser) headerTime() (time.Time, string) {
	b.t.Helper()
	assert.Equal(b.t, "Sandbox time", b.text(`#clock-now .clock-label`))
	s := b.text(`#clock-time`)
	at, err := time.ParseInLocation("2006-01-02 15:04", s, time.Local)
	require.NoError(b.t, err, "the header shows %q", s)
	note := b.text(`#clock-note`)
	require.Regexp(b.t, `^\(.+\)$`, note)
	return at, note[1 : len(note)-1]
}

// TestDashboardBrowserClock drives the test clock from the header: +1h shows the
// sandbox time and completes a payout whose withdrawal_delay passed; freeze and
// resume; a free duration; a refused move shows the API's reason; a move made through
// the API reaches the header by the "clock" change notice; "Run next due" settles a
// new payout.
func TestDashboardBrowserClock(t *testing.T) {
	env := MustOpenEnv(t, func(c *config.Config) { c.WithdrawalDelay = config.Duration(30 * time.Minute) })
	env.Withdraw(t, "CLOCK-PAYOUT-1", map[string]string{"amount": "25"})
	b := mustBrowser(t, 90*time.Second)
	row := `#orders-table tbody tr[data-order-id="CLOCK-PAYOUT-1"]`
	b.do(chromedp.Navigate(env.URL+"/sandbox/"), visible(`#live[data-mode="live"]`), visible(row+` .badge.s-pending`))
	assert.True(t, eval[bool](b, `document.querySelector("#clock-now").hidden`), "at real time the header shows no sandbox time")
	b.noOverflow("real time")

	// The panel names the payout's settlement as the next due event.
	b.do(click(`#clock-btn`), visible(`#clock-panel`), hasText(`#clock-state`, "running"))
	assert.Regexp(t, `\(in (29m \d+s|30m)\)$`, b.text(`#clock-next`), "the payout settles in 30 minutes")
	b.do(click(`#clock-steps [data-advance="1h"]`), hasText(`#clock-msg.ok`, "Advanced +1h"), visible(`#clock-now`),
		shows(row+` .badge.s-completed`))
	at, note := b.headerTime()
	assert.Equal(t, "+1h", note)
	v := env.clockNow(t)
	assert.InDelta(t, 3600, v.OffsetSeconds, 5)
	assert.WithinDuration(t, v.Now, at, 2*time.Minute, "the header shows the sandbox's time")
	assert.Equal(t, "completed", env.adminOrder(t, gateway.KindWithdrawal, "CLOCK-PAYOUT-1").Status)
	b.shot("clock-1h")
	b.noOverflow("sandbox time shown, clock panel open")

	// Freeze, then resume.
	b.do(click(`#clock-freeze`), hasText(`#clock-note`, "frozen"), hasText(`#clock-freeze`, "Resume"), hasText(`#clock-state`, "frozen"))
	assert.True(t, env.clockNow(t).Frozen)
	b.noOverflow("frozen")
	b.do(click(`#clock-freeze`), hasText(`#clock-freeze`, "Freeze"), hasText(`#clock-state`, "running"))
	assert.False(t, env.clockNow(t).Frozen)
	assert.NotContains(t, b.text(`#clock-note`), "frozen")

	// A free duration, then one the API refuses: its reason shows, the clock stays.
	b.do(setValue(`#clock-advance`, "2m"), click(`#clock-form button[type=submit]`), hasText(`#clock-msg.ok`, "Advanced +2m"),
		hasText(`#clock-note`, "+1h 2m"))
	assert.InDelta(t, 3720, env.clockNow(t).OffsetSeconds, 5)
	b.do(setValue(`#clock-advance`, "-5m"), click(`#clock-form button[type=submit]`),
		hasText(`#clock-msg.error`, "advance must be a duration"))
	assert.InDelta(t, 3720, env.clockNow(t).OffsetSeconds, 5, "a refused move leaves the clock")

	// A move made through the API reaches the header by the change notice.
	env.advance(t, "1d")
	b.do(hasText(`#clock-note`, "+1d 1h"))
	// A new payout is the next due event: running it settles the payout.
	env.Withdraw(t, "CLOCK-PAYOUT-2", map[string]string{"amount": "25"})
	row2 := `#orders-table tbody tr[data-order-id="CLOCK-PAYOUT-2"]`
	b.do(shows(row2+` .badge.s-pending`), enabled(`#clock-run-next`), click(`#clock-run-next`),
		hasText(`#clock-msg.ok`, "Moved to the next due event"), shows(row2+` .badge.s-completed`))
	// A click elsewhere closes the panel.
	b.do(click(`#tab-journal`), gone(`#clock-panel`), visible(`#clock-now`))
	b.noScriptErrors()
}
