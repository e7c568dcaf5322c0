package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// matches waits until the text of the element a CSS selector matches matches a
// regular expression (JavaScript's syntax).
func matches(css, re string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`new RegExp(%s).test(document.querySelector(%s)?.textContent || "")`, js(re), js(css)),
		chromedp.WithPollingTimeout(15*time.Second))
}

// focused is a description of the element that has the focus: its id, or its row's
// order id or list id.
func (b *browser) focused() string {
	b.t.Helper()
	return eval[string](b, `(() => { const a = document.activeElement;
		if (!a || a === document.body) return "body";
		if (a.id) return "#" + a.id;
		return a.tagName + (a.dataset.orderId ? "[order " + a.dataset.orderId + "]" : "") + (a.dataset.id ? "[id " + a.dataset.id + "]" : ""); })()`)
}

// attr is an attribute of the first element a CSS selector matches ("" when absent).
func (b *browser) attr(css, name string) string {
	b.t.Helper()
	return eval[string](b, `(() => { const el = document.querySelector(`+js(css)+`); return el ? (el.getAttribute(`+js(name)+`) || "") : "missing"; })()`)
}

// TestDashboardBrowserDrawerFocus: the order drawer takes the focus when it opens and
// gives it back to the row that opened it when it closes, by Escape or by its Close
// button, even when the row was drawn anew meanwhile (issue 20); the row says whether
// the drawer shows it (aria-expanded, aria-controls).
func TestDashboardBrowserDrawerFocus(t *testing.T) {
	rc := newRecorder(t, nil)
	env := MustOpenEnv(t, withCallback(rc.URL))
	env.Deposit(t, "FOCUS-1", nil)
	env.Deposit(t, "FOCUS-2", nil)
	b := mustBrowser(t, 60*time.Second)
	row := `#orders-table tbody tr[data-order-id="FOCUS-1"]`
	b.do(chromedp.Navigate(env.URL+"/sandbox/"), visible(row), visible(`#live[data-mode="live"]`))
	assert.Equal(t, "false", b.attr(row, "aria-expanded"))
	assert.Equal(t, "drawer", b.attr(row, "aria-controls"))

	// By keyboard: Enter on the row opens the drawer with the focus in it; Escape
	// closes it and the focus is on the row again.
	b.do(chromedp.Focus(chromedp.CSS(row)), chromedp.KeyEvent(kb.Enter), visible(`#drawer`), hasText(`#drawer-orderid`, "FOCUS-1"))
	assert.Equal(t, "#drawer", b.focused(), "the drawer takes the focus")
	assert.Equal(t, "Order detail", b.attr(`#drawer`, "aria-label"), "what a screen reader announces")
	assert.Equal(t, "true", b.attr(row, "aria-expanded"))
	assert.Equal(t, "false", b.attr(`#orders-table tbody tr[data-order-id="FOCUS-2"]`, "aria-expanded"))
	b.do(chromedp.KeyEvent(kb.Escape), gone(`#drawer`))
	assert.Equal(t, "TR[order FOCUS-1]", b.focused(), "Escape gives the focus back to the row")
	assert.Equal(t, "false", b.attr(row, "aria-expanded"))

	// By pointer, with the order settled from the drawer: its row is drawn anew (a new
	// status) while the drawer is open, and Close gives the focus to the new row.
	b.do(click(row+` td:nth-child(3)`), visible(`#drawer`), enabled(`#act-settle`))
	assert.Equal(t, "#drawer", b.focused())
	b.do(click(`#act-settle`), visible(`#drawer-status.s-completed`), visible(row+` .badge.s-completed`))
	b.do(click(`#drawer-close`), gone(`#drawer`))
	assert.Equal(t, "TR[order FOCUS-1]", b.focused(), "Close gives the focus back to the row drawn anew")
	rc.wait(t, 1, 5*time.Second)
	b.noScriptErrors()
}

// TestDashboardBrowserExpandableRows: the rows of the journal and the callbacks log
// that open a detail row carry aria-expanded, and aria-controls naming the detail row
// while it is open (issue 20).
func TestDashboardBrowserExpandableRows(t *testing.T) {
	rc := newRecorder(t, nil)
	env := MustOpenEnv(t, withCallback(rc.URL))
	env.Deposit(t, "EXPAND-1", nil)
	env.mustSettle(t, "deposit", "EXPAND-1", map[string]string{"outcome": "completed"})
	rc.wait(t, 1, 5*time.Second)
	b := mustBrowser(t, 60*time.Second)
	b.do(chromedp.Navigate(env.URL+"/sandbox/"), visible(`#live[data-mode="live"]`))
	for _, list := range []string{"journal", "callbacks"} {
		row := `#` + list + `-table tbody tr[data-id]`
		b.do(click(`#tab-`+list), visible(row))
		assert.Equal(t, "false", b.attr(row, "aria-expanded"), list)
		assert.Equal(t, "", b.attr(row, "aria-controls"), list)
		b.do(click(row+` td:first-child`), visible(`#`+list+`-table tbody tr.detail`))
		assert.Equal(t, "true", b.attr(row, "aria-expanded"), list)
		controls := b.attr(row, "aria-controls")
		require.NotEmpty(t, controls, list)
		assert.True(t, eval[bool](b, `document.getElementById(`+js(controls)+`).classList.contains("detail")`), "%s: aria-controls names the detail row", list)
		// By keyboard too: Enter on the focused row closes it.
		b.do(chromedp.Focus(chromedp.CSS(row)), chromedp.KeyEvent(kb.Enter), absent(`#`+list+`-table tbody tr.detail`))
		assert.Equal(t, "false", b.attr(row, "aria-expanded"), list)
		assert.Equal(t, "", b.attr(row, "aria-controls"), list)
	}
	b.noScriptErrors()
}

// TestDashboardBrowserListDates: once the sandbox clock has moved to another day, a
// list shows the date of a row from any day but the sandbox's today, and the time
// alone for today's (issue 21: rows from different days looked alike). The clock is
// frozen at noon UTC, so the days are the same in any time zone the browser runs in.
func TestDashboardBrowserListDates(t *testing.T) {
	env := MustOpenEnv(t)
	setClock := func(at string) {
		code, body := env.PostForm(t, "/sandbox/api/clock", map[string]string{"set": at, "freeze": "true"})
		require.Equal(t, http.StatusOK, code, "%s", body)
	}
	setClock("2031-03-04T12:00:00Z")
	env.Deposit(t, "DAY-1", nil)
	b := mustBrowser(t, 60*time.Second)
	old := `#orders-table tbody tr[data-order-id="DAY-1"] td:first-child`
	b.do(chromedp.Navigate(env.URL+"/sandbox/"), visible(old), visible(`#live[data-mode="live"]`))
	timeOnly := `^\d\d:\d\d:\d\d(\.\d{3})?$`
	// The page learns the sandbox's day from GET /clock, which may answer after the
	// list: the rows are drawn again then.
	b.do(matches(old, timeOnly))
	assert.Regexp(t, timeOnly, b.text(old), "today's row: the time alone")

	setClock("2031-03-06T12:00:00Z")
	env.Deposit(t, "DAY-3", nil)
	fresh := `#orders-table tbody tr[data-order-id="DAY-3"] td:first-child`
	b.do(visible(fresh), matches(old, `^2031-03-04 `), matches(fresh, timeOnly))
	assert.Regexp(t, `^2031-03-04 \d\d:\d\d:\d\d$`, b.text(old), "a row of another day shows its date")
	assert.Regexp(t, timeOnly, b.text(fresh), "the sandbox's today: the time alone")
	assert.Contains(t, b.attr(old, "title"), "2031-03-04", "the full time in the title")

	// The journal too: the first requests were made on the 4th.
	first, last := `#journal-table tbody tr[data-id]:first-child td:first-child`, `#journal-table tbody tr[data-id]:last-child td:first-child`
	b.do(click(`#tab-journal`), visible(`#journal-table tbody tr[data-id]`), matches(first, timeOnly), matches(last, `^2031-03-04 `))
	b.noScriptErrors()
}
