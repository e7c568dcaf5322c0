package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/scenarios"
)

// The phone the dashboard must fit: an iPhone 12, 13 or 14, as its browser lays out.
const phoneW, phoneH = 390, 844

// phone makes the tab lay pages out as that phone does: 390x844 CSS px, three device
// pixels to one, touch, and the mobile viewport (a page wider than the screen is
// zoomed out to fit, so innerWidth grows past 390).
func (b *browser) phone() {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(phoneW, phoneH, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch))
}

// fitsPhone fails the test when, on the phone, the page is wider than the screen or
// scrolled, a header control (Clock, the live badge, Reset, Token) is off screen or
// covered, the tab bar is cut off without scrolling, or a table shown widens the page
// instead of scrolling in its own container.
func (b *browser) fitsPhone(where string) {
	b.t.Helper()
	problems := eval[[]string](b, fmt.Sprintf(`(() => {
		const W = %d, H = %d, out = [], de = document.documentElement;
		const name = (el) => el ? (el.id || el.className || el.tagName) : "nothing";
		const box = (el) => { const r = el.getBoundingClientRect(); return Math.round(r.left) + ".." + Math.round(r.right) + " x " + Math.round(r.top) + ".." + Math.round(r.bottom); };
		const onScreen = (r) => r.width > 0 && r.left >= -0.5 && r.right <= W + 0.5 && r.top >= -0.5 && r.bottom <= H + 0.5;
		const scrolls = (el) => /auto|scroll/.test(getComputedStyle(el).overflowX);
		if (innerWidth !== W) out.push("the page is zoomed out: innerWidth " + innerWidth);
		if (de.scrollWidth > innerWidth) out.push("the page is " + de.scrollWidth + " px wide");
		if (scrollX !== 0 || scrollY !== 0) out.push("the page scrolled to " + scrollX + "," + scrollY);
		for (const sel of ["#clock-btn", "#live", "#reset-btn", "#token-btn"]) {
			const el = document.querySelector(sel), r = el.getBoundingClientRect();
			if (!onScreen(r)) { out.push(sel + " is off screen at " + box(el)); continue; }
			const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			if (!el.contains(hit)) out.push(sel + " is covered by " + name(hit));
		}
		const tabs = document.querySelector(".tabs");
		if (!onScreen(tabs.getBoundingClientRect())) out.push("the tab bar is at " + box(tabs));
		if (tabs.scrollWidth > tabs.clientWidth + 1 && !scrolls(tabs)) out.push("the tab bar is cut off and does not scroll");
		for (const t of document.querySelectorAll("main table.grid, .drawer table")) {
			if (t.closest("[hidden]") || !t.getClientRects().length) continue;
			let wrap = t.parentElement;
			while (wrap && wrap !== document.body && !scrolls(wrap)) wrap = wrap.parentElement;
			if (t.offsetWidth > W && (!wrap || wrap === document.body)) out.push(name(t) + " is " + t.offsetWidth + " px wide and scrolls nowhere");
			else if (wrap && wrap !== document.body && wrap.getBoundingClientRect().right > W + 0.5) out.push(name(wrap) + " of " + name(t) + " ends at " + box(wrap));
		}
		return out;
	})()`, phoneW, phoneH))
	assert.Empty(b.t, problems, "%s: the dashboard does not fit a %d px phone", where, phoneW)
}

// onPhoneScreen fails the test when an element shown is not wholly on the phone's
// screen (a dialog, the drawer, the clock panel).
func (b *browser) onPhoneScreen(css string) {
	b.t.Helper()
	r := eval[[]float64](b, fmt.Sprintf(`(() => { const r = document.querySelector(%s).getBoundingClientRect();
		return [r.left, r.right, r.top, r.bottom]; })()`, js(css)))
	ok := r[0] >= -0.5 && r[1] <= phoneW+0.5 && r[2] >= -0.5 && r[3] <= phoneH+0.5 && r[1] > r[0]
	assert.True(b.t, ok, "%s is at x %.0f..%.0f, y %.0f..%.0f: not on the %dx%d screen", css, r[0], r[1], r[2], r[3], phoneW, phoneH)
}

// TestDashboardBrowserPhone uses the dashboard on a 390x844 phone: no tab widens the
// page, the tab bar reaches every tab by scrolling within itself, wide tables scroll
// inside their container, the drawer fits the screen and settles an order, and the
// header's Clock, live badge, Reset and Token stay on screen, with the clock moved
// and frozen too.
func TestDashboardBrowserPhone(t *testing.T) {
	recv := newRecorder(t, nil)
	env := MustOpenEnv(t, func(c *config.Config) {
		c.Merchants[0].CallbackURL = recv.URL
		c.WithdrawalDelay = scenarios.Duration(time.Hour)
	})
	env.Deposit(t, "PHONE-DEP-1", map[string]string{"username": "A customer with a rather long name", "amount": "300"})
	env.Withdraw(t, "PHONE-WD-1", map[string]string{"holder_name": "SUK THAWAR", "amount": "25"})
	env.PostForm(t, "/sandbox/api/deposits/PHONE-DEP-1/settle", map[string]string{"outcome": "completed"})
	recv.wait(t, 1, 5*time.Second)
	b := mustBrowser(t, 90*time.Second)
	b.phone()

	wd := `#orders-table tbody tr[data-order-id="PHONE-WD-1"]`
	b.do(chromedp.Navigate(env.URL+"/sandbox/"), visible(`#live[data-mode="live"]`), shows(wd))
	b.fitsPhone("orders")
	b.shot("30-phone-orders")
	// The orders table is wider than the phone: it scrolls within its container.
	assert.Greater(t, eval[int](b, `document.querySelector("#orders-table").offsetWidth`), phoneW)
	assert.True(t, eval[bool](b, `(() => { const w = document.querySelector("#panel-orders .tablewrap");
		w.scrollLeft = 200; const moved = w.scrollLeft > 0; w.scrollLeft = 0; return moved && scrollX === 0; })()`),
		"the orders table does not scroll sideways in its container")

	// Every tab is reached through the tab bar, which scrolls; the page does not.
	assert.Greater(t, eval[int](b, `document.querySelector(".tabs").scrollWidth`), eval[int](b, `document.querySelector(".tabs").clientWidth`),
		"the tabs fit a phone without scrolling: this test no longer tries the scrolling")
	for _, tab := range []string{"faults", "journal", "callbacks", "balances", "scenarios", "captures", "orders"} {
		b.do(click(`#tab-`+tab), shows(`#panel-`+tab))
		assert.Equal(t, "true", eval[string](b, `document.querySelector("#tab-`+tab+`").getAttribute("aria-selected")`), tab)
		b.onPhoneScreen(`#tab-` + tab)
		b.fitsPhone(tab + " tab")
		b.shot("31-phone-" + tab)
	}
	b.do(chromedp.Navigate(env.URL+"/sandbox/#faults"), visible(`#panel-faults`), visible(`#live[data-mode="live"]`))
	b.onPhoneScreen(`#tab-faults`) // a link to a tab at the end of the bar shows that tab
	b.do(click(`#tab-orders`), shows(wd))

	// The drawer fits the screen, under the header, and settles the withdrawal.
	b.do(click(wd+` td:nth-child(3)`), visible(`#drawer`), enabled(`#act-settle`))
	b.onPhoneScreen(`#drawer`)
	b.onPhoneScreen(`#drawer-close`)
	b.onPhoneScreen(`#act-settle`)
	assert.LessOrEqual(t, eval[int](b, `document.querySelector(".drawer-body").scrollWidth`), eval[int](b, `document.querySelector(".drawer-body").clientWidth`),
		"the drawer scrolls sideways")
	b.fitsPhone("drawer open")
	b.shot("32-phone-drawer")
	b.do(click(`#act-settle`), visible(`#drawer-status.s-completed`), visible(`#drawer-callbacks tr.attempt[data-http-status="200"]`))
	b.fitsPhone("drawer with a callback")
	b.do(click(`#drawer-close`), gone(`#drawer`))

	// The clock panel fits; moved and frozen, the clock's wider button keeps the header on screen.
	b.do(click(`#clock-btn`), visible(`#clock-panel`))
	b.onPhoneScreen(`#clock-panel`)
	b.do(click(`#clock-steps [data-advance="1h"]`), visible(`#clock-now`), enabled(`#clock-freeze`), click(`#clock-freeze`), hasText(`#clock-note`, "frozen"))
	b.onPhoneScreen(`#clock-panel`)
	b.shot("33-phone-clock")
	b.do(click(`#clock-btn`), gone(`#clock-panel`))
	b.fitsPhone("clock moved and frozen")

	// The dialogs fit.
	b.do(click(`#token-btn`), visible(`#token-dialog`))
	b.onPhoneScreen(`#token-dialog`)
	b.do(click(`#token-dialog button[value="cancel"]`), gone(`#token-dialog`))
	b.do(click(`#reset-btn`), visible(`#reset-dialog`))
	b.onPhoneScreen(`#reset-dialog`)
	b.shot("34-phone-reset")
	b.do(click(`#reset-dialog button[value="cancel"]`), gone(`#reset-dialog`))
	b.fitsPhone("after the dialogs")
	b.noScriptErrors()
}
