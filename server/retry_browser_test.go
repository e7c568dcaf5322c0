package server_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/vpay88/vpay88-sandbox/store"
)

// TestDashboardBrowserRetryFailed: the callbacks view's "Retry failed" button queues
// the failed callbacks of the merchant chosen again, and the log shows them delivered
// without a reload.
func TestDashboardBrowserRetryFailed(t *testing.T) {
	rc, up := switchable(t)
	e := MustOpenEnv(t, withCallback(rc.URL), withSchedule(0, 50*time.Millisecond))
	e.createDeposits(t, testMerchant, testAPIKey, "success@example.com", []string{"DASH-RETRY"})
	e.waitTotal(t, testMerchant, store.DeliveryFailed, 1, 5*time.Second)

	b := mustBrowser(t, 30*time.Second)
	failed := `#callbacks-table tbody tr[data-id] .badge.s-failed`
	b.do(chromedp.Navigate(e.URL+"/sandbox/#callbacks"), visible(`#live[data-mode="live"]`), visible(failed),
		// Options are never "visible": wait for the merchant list to be loaded.
		chromedp.WaitReady(chromedp.CSS(`#callbacks-filters select[name="merchant"] option[value="`+testMerchant+`"]`)),
		setValue(`#callbacks-filters select[name="merchant"]`, testMerchant))
	up.Store(true)
	b.do(click(`#callbacks-retry`), visible(`#callbacks-table tbody tr[data-id] .badge.s-delivered`))
	assert.Contains(t, b.text(`#toasts`), "1 failed callback queued again")
	assert.Equal(t, 0, e.callbackTotal(t, testMerchant, store.DeliveryFailed))
	rc.wait(t, 3, time.Second) // two failed attempts, then the retried one
	b.noScriptErrors()
}
