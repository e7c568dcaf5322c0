package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/scenarios"
)

// present waits until an element that matches css is in the page, shown or not (an
// option of a closed select).
func present(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%s) !== null`, js(css)),
		chromedp.WithPollingTimeout(15*time.Second))
}

// TestDashboardBrowserRuntimeMerchants: a merchant made at run time (POST
// /sandbox/api/merchants) shows up, without a reload, in the merchant filters, the
// merchants table (tagged run-time) and the balances; deleted, it is gone from all.
func TestDashboardBrowserRuntimeMerchants(t *testing.T) {
	env := MustOpenEnv(t)
	b := mustBrowser(t, 60*time.Second)
	b.do(chromedp.Navigate(env.URL+"/sandbox/#balances"), visible(`#live[data-mode="live"]`),
		shows(`#merchants-table tbody tr[data-merchant="vpay88-test"]`))
	eval[string](b, `window.__noReload = "same page"`)
	option := `#orders-filters select[name="merchant"] option[value="ci-7"]`
	row := `#merchants-table tbody tr[data-merchant="ci-7"]`
	balance := `#balances-table input[aria-label="Available ci-7 MYR"]`
	require.Zero(t, eval[int](b, `document.querySelectorAll(`+js(option)+`).length`), "ci-7 before it was made")
	assert.Zero(t, eval[int](b, `document.querySelectorAll("#merchants-table .badge.runtime").length`),
		"a configured merchant is not tagged run-time")

	env.addMerchant(t, `{"username":"ci-7"}`)
	b.do(present(option), shows(row), shows(balance))
	assert.Equal(t, "run-time", b.text(row+` .badge.runtime`))
	assert.Equal(t, 1, eval[int](b, `document.querySelectorAll("#merchants-table .badge.runtime").length`), "only ci-7 is tagged")
	b.do(present(`#callbacks-filters select[name="merchant"] option[value="ci-7"]`),
		present(`#fault-form select[name="merchant"] option[value="ci-7"]`))
	b.shot("20-runtime-merchant")

	// A filter on the merchant falls back to all when it is deleted.
	b.do(click(`#tab-orders`), visible(`#orders-empty`))
	b.choose(`#orders-filters select[name="merchant"]`, "ci-7")
	code, body := env.delete(t, "/sandbox/api/merchants/ci-7")
	require.Equal(t, http.StatusOK, code, body)
	b.do(absent(option), absent(row), click(`#tab-balances`), absent(balance))
	assert.Empty(t, eval[string](b, `document.querySelector('#orders-filters select[name="merchant"]').value`))
	assert.Zero(t, eval[int](b, `document.querySelectorAll('[data-merchants] option[value="ci-7"]').length`), "a select still offers ci-7")
	assert.Equal(t, "same page", eval[string](b, `window.__noReload`), "the merchants changed through a reload")
	b.noScriptErrors()
}

// TestDashboardBrowserWithdrawalWording: the dashboard calls a withdrawal what the
// vendor and admin APIs call it (kind withdrawal, /merchant/withdraw_orders), in the
// orders and callbacks lists and the drawer; "payout" stays only in the Payout fee
// column, the merchant setting payout_fee.
func TestDashboardBrowserWithdrawalWording(t *testing.T) {
	recv := newRecorder(t, nil)
	env := MustOpenEnv(t, func(c *config.Config) {
		c.Merchants[0].CallbackURL = recv.URL
		c.WithdrawalDelay = scenarios.Duration(time.Hour)
	})
	env.Withdraw(t, "WORD-WD-1", map[string]string{"amount": "25"})
	env.Deposit(t, "WORD-DEP-1", nil)
	env.PostForm(t, "/sandbox/api/withdrawals/WORD-WD-1/settle", map[string]string{"outcome": "completed"})
	recv.wait(t, 1, 5*time.Second)
	b := mustBrowser(t, 60*time.Second)

	b.do(chromedp.Navigate(env.URL+"/sandbox/"), visible(`#live[data-mode="live"]`))
	wd := `#orders-table tbody tr[data-order-id="WORD-WD-1"]`
	b.do(shows(wd), shows(`#orders-table tbody tr[data-order-id="WORD-DEP-1"]`))
	assert.Equal(t, "withdrawal", b.text(wd+` .kind`))
	assert.Equal(t, "deposit", b.text(`#orders-table tbody tr[data-order-id="WORD-DEP-1"] .kind`))
	b.do(click(wd+` td:nth-child(3)`), visible(`#drawer`), hasText(`#drawer-orderid`, "WORD-WD-1"))
	assert.Equal(t, "Withdrawal", b.text(`#drawer-kind`))
	b.do(click(`#tab-callbacks`), shows(`#callbacks-table tbody tr[data-id]`))
	assert.Equal(t, "withdrawal", b.text(`#callbacks-table tbody tr[data-id] .kind`))
	for _, tab := range []string{"journal", "balances", "scenarios", "captures", "faults"} {
		b.do(click(`#tab-`+tab), shows(`#panel-`+tab))
	}
	b.do(present(`#merchants-table tbody tr`))

	// Every text of the page, shown or not, and the titles, placeholders and labels.
	words := eval[[]string](b, `(() => {
		const found = [], say = (where, s) => { if (/payout/i.test(s.replace(/payout[ _]fee/gi, ""))) found.push(where + ": " + s.trim().slice(0, 120)); };
		const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) say(n.parentElement.tagName, n.nodeValue);
		for (const el of document.querySelectorAll("[title], [placeholder], [aria-label]"))
			for (const a of ["title", "placeholder", "aria-label"]) if (el.hasAttribute(a)) say(a, el.getAttribute(a));
		return found;
	})()`)
	assert.Empty(t, words, `the dashboard says "payout" for a withdrawal`)
	b.noScriptErrors()
}

// TestDashboardBrowserMerchantEdit: the merchants table pages (50 a page) and shows
// each merchant's dialect; Edit changes a configured merchant's callback URL and
// dialect (PATCH), which the API then lists.
func TestDashboardBrowserMerchantEdit(t *testing.T) {
	env := MustOpenEnv(t)
	for i := range 55 {
		env.mustMerchant(t, fmt.Sprintf(`{"username":"pg-%02d"}`, i))
	}
	b := mustBrowser(t, 60*time.Second)
	row := `#merchants-table tbody tr[data-merchant="vpay88-test"]`
	b.do(chromedp.Navigate(env.URL+"/sandbox/#balances"), visible(`#live[data-mode="live"]`), shows(row))
	assert.Equal(t, "1–50 of 56", eval[string](b, `document.querySelector("#merchants-pager .range").textContent`))
	assert.Equal(t, "document", b.text(row+` [data-testid="dialect"]`))
	b.do(click(row+` [data-testid="edit-merchant"]`), shows(`tr[data-edit="vpay88-test"]`))
	b.choose(`tr[data-edit="vpay88-test"] select[name="callback_amount"]`, "string")
	b.do(chromedp.SendKeys(`tr[data-edit="vpay88-test"] input[name="callback_url"]`, "http://127.0.0.1:9/cb"),
		click(`tr[data-edit="vpay88-test"] button:not(.ghost)`), absent(`tr[data-edit="vpay88-test"]`))
	b.do(chromedp.Poll[chromedp.Void](`document.querySelector(`+js(row+` [data-testid="dialect"]`)+`).textContent.includes("callback_amount: string")`,
		chromedp.WithPollingTimeout(15*time.Second)))
	var list merchantList
	getJSON(t, env.URL+"/sandbox/api/merchants?limit=1", &list)
	assert.Equal(t, "http://127.0.0.1:9/cb", list.Merchants[0].CallbackURL)
	assert.Equal(t, map[string]string{"callback_amount": "string"}, list.Merchants[0].Dialect)
	b.do(click(`#merchants-pager [data-dir="1"]`), shows(`#merchants-table tbody tr[data-merchant="pg-54"]`))
	assert.Equal(t, "51–56 of 56", eval[string](b, `document.querySelector("#merchants-pager .range").textContent`))
	b.noScriptErrors()
}
