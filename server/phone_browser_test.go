package server_test

import (
	"encoding/json"
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

// leads fails the test when, in the row row, a cell of lead (CSS under the row) is not
// wholly on the phone's screen, is cut (its text wider than its box), or is not on the
// row's first line; or when the row is taller than maxH px.
func (b *browser) leads(row string, maxH int, lead ...string) {
	b.t.Helper()
	b.do(visible(row))
	problems := eval[[]string](b, fmt.Sprintf(`(() => {
		const W = %d, row = document.querySelector(%s), rr = row.getBoundingClientRect(), out = [];
		if (rr.height > %d) out.push("the row is " + Math.round(rr.height) + " px tall");
		for (const sel of %s) {
			const el = row.querySelector(sel);
			if (!el) { out.push(sel + " is missing"); continue; }
			const r = el.getBoundingClientRect();
			if (r.width === 0 || r.left < -0.5 || r.right > W + 0.5) out.push(sel + " is at x " + Math.round(r.left) + ".." + Math.round(r.right));
			if (r.top - rr.top > 14) out.push(sel + " is not on the first line (" + Math.round(r.top - rr.top) + " px down)");
			if (el.scrollWidth > el.clientWidth + 1 && !/ellipsis/.test(getComputedStyle(el).textOverflow)) out.push(sel + " is cut: " + el.scrollWidth + " px in " + el.clientWidth);
		}
		return out;
	})()`, phoneW, js(row), maxH, jsList(lead)))
	assert.Empty(b.t, problems, "%s on a %d px phone", row, phoneW)
}

// jsList is a list of strings as a JavaScript array literal.
func jsList(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
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
	// An order's row leads with its id, amount and status, whole and on screen on the
	// first line (issue 21: Created, Kind, Order id and Merchant pushed them off).
	b.leads(wd, 64, `td:nth-child(3)`, `td:nth-child(5)`, `td:nth-child(7) .badge`)
	b.leads(`#orders-table tbody tr[data-order-id="PHONE-DEP-1"]`, 64, `td:nth-child(3)`, `td:nth-child(5)`, `td:nth-child(7) .badge`)
	assert.LessOrEqual(t, eval[int](b, `document.querySelector("#orders-table").offsetWidth`), phoneW, "the orders list fits the phone")

	// Every tab is reached through the tab bar, which scrolls; the page does not.
	assert.Greater(t, eval[int](b, `document.querySelector(".tabs").scrollWidth`), eval[int](b, `document.querySelector(".tabs").clientWidth`),
		"the tabs fit a phone without scrolling: this test no longer tries the scrolling")
	for _, tab := range []string{"faults", "journal", "callbacks", "balances", "scenarios", "captures", "orders"} {
		b.do(click(`#tab-`+tab), shows(`#panel-`+tab))
		assert.Equal(t, "true", eval[string](b, `document.querySelector("#tab-`+tab+`").getAttribute("aria-selected")`), tab)
		b.onPhoneScreen(`#tab-` + tab)
		b.fitsPhone(tab + " tab")
		b.shot("31-phone-" + tab)
		switch tab {
		case "journal":
			// A request's row: its endpoint and HTTP status first, two lines at most
			// (issue 21: 150 px of white per row).
			b.do(visible(`#journal-table tbody tr[data-id]`))
			for _, row := range []string{`#journal-table tbody tr[data-id]:first-child`, `#journal-table tbody tr[data-id]:last-child`} {
				b.leads(row, 52, `td:nth-child(2)`, `td:nth-child(4)`)
			}
			// Its detail opens under it, within the screen's width.
			b.do(click(`#journal-table tbody tr[data-id]:first-child td:nth-child(2)`), visible(`#journal-table tbody tr.detail`))
			b.fitsPhone("journal detail")
			b.shot("31-phone-journal-detail")
			assert.Empty(t, eval[[]string](b, `[...document.querySelectorAll("#journal-table tr.detail .kv tr")].filter((tr) => {
				const th = tr.querySelector("th").getBoundingClientRect(), td = tr.querySelector("td").getBoundingClientRect();
				return th.right > td.left + 1; }).map((tr) => tr.textContent)`), "the request fields' names overlap their values")
			b.do(click(`#journal-table tbody tr[data-id]:first-child td:nth-child(2)`), absent(`#journal-table tbody tr.detail`))
		case "callbacks":
			// A callback's row: its order id and its state badge, not cut mid-word.
			b.do(visible(`#callbacks-table tbody tr[data-id]`))
			b.leads(`#callbacks-table tbody tr[data-id]`, 64, `td:nth-child(4)`, `td:nth-child(5) .badge`)
		}
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
