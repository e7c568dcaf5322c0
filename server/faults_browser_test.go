package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultsList reads GET /sandbox/api/faults.
func (e *testEnv) faultsList(tb testing.TB) []map[string]any {
	tb.Helper()
	var v struct {
		Faults []map[string]any `json:"faults"`
	}
	getJSON(tb, e.URL+"/sandbox/api/faults", &v)
	return v.Faults
}

// TestDashboardBrowserFaults drives the Faults tab: the kind's own fields show for
// that kind only; a status-502 fault on generate_orders added from the form hits the
// next generate_orders request, which the journal marks injected, and the fault's
// hits go to 1; a refused fault shows the API's reason; a maintenance window opens
// and ends by the sandbox clock; one fault is removed, then all.
func TestDashboardBrowserFaults(t *testing.T) {
	env := MustOpenEnv(t)
	b := mustBrowser(t, 90*time.Second)
	b.do(chromedp.Navigate(env.URL+"/sandbox/#faults"), visible(`#live[data-mode="live"]`), visible(`#faults-empty`),
		chromedp.WaitReady(chromedp.CSS(`#fault-form select[name="endpoint"] option[value="generate_orders"]`)))
	b.noOverflow("faults tab")

	// Each kind shows its own fields only.
	b.do(visible(`#fault-form input[name="status"]`), gone(`#fault-form input[name="duration"]`))
	b.choose(`#fault-kind`, "slow")
	b.do(visible(`#fault-form input[name="duration"]`), gone(`#fault-form input[name="status"]`), gone(`#fault-form select[name="body"]`))
	b.choose(`#fault-kind`, "lost_answer")
	b.do(visible(`#fault-form select[name="then"]`), visible(`#fault-form input[name="status"]`))
	b.choose(`#fault-kind`, "status")
	b.do(gone(`#fault-form select[name="then"]`), gone(`#fault-form input[name="probability"]`))

	// A status-502 fault on generate_orders, once.
	b.choose(`#fault-form select[name="endpoint"]`, "generate_orders")
	b.do(setValue(`#fault-form input[name="status"]`, "502"), click(`#fault-add`), hasText(`#fault-msg.ok`, "added"))
	fault := `#faults-table tbody tr[data-kind="status"]`
	b.do(shows(fault), hasText(`#count-faults`, "1"))
	assert.Contains(t, b.text(fault), "generate_orders")
	assert.Contains(t, b.text(fault), "HTTP 502")
	assert.Equal(t, "0", b.text(fault+` td.hits`))
	assert.Equal(t, "1", b.text(fault+` td.remaining`))
	b.shot("faults-added")

	tok := env.Auth(t) // auth is not faulted
	code, body := env.PostMultipart(t, "/merchant/generate_orders", map[string]string{"username": "john", "auth": tok,
		"amount": "100", "currency": "MYR", "orderid": "FAULT-1", "email": "john@example.com", "phone_number": "601012456789"})
	assert.Equal(t, http.StatusBadGateway, code, "%s", body)
	b.do(hasText(fault+` td.hits`, "1"), hasText(fault+` td.remaining`, "0"), shows(`#faults-table tbody tr.ended`))
	assert.Empty(t, b.text(`#count-faults`), "a spent fault is not in force")
	env.Deposit(t, "FAULT-2", nil) // the fault is spent: this one goes through

	// The journal marks the request the fault hit, and that one only.
	b.do(click(`#tab-journal`), shows(`#journal-table tbody tr.injected .badge.s-injected`),
		shows(`#journal-table tbody tr[data-id]:not(.injected)`))
	hit := b.text(`#journal-table tbody tr.injected`)
	assert.Contains(t, hit, "injected")
	assert.Contains(t, hit, "status 502")
	assert.Contains(t, hit, "/merchant/generate_orders")
	assert.Equal(t, 1, eval[int](b, `document.querySelectorAll("#journal-table tbody tr.injected").length`))
	b.shot("faults-journal")

	// A refused fault: the API's reason shows under the form.
	b.do(click(`#tab-faults`), visible(`#fault-form`))
	b.choose(`#fault-kind`, "message")
	b.do(click(`#fault-add`), hasText(`#fault-msg.error`, "needs its message")) // its message left empty
	// With its message, and a probability: fires is shown as p.
	b.choose(`#fault-fires`, "probability")
	b.do(setValue(`#fault-form input[name="message"]`, "Bank busy."), setValue(`#fault-form input[name="probability"]`, "0.25"),
		click(`#fault-add`), hasText(`#fault-msg.ok`, "added"), shows(`#faults-table tbody tr[data-kind="message"]`))
	assert.Contains(t, b.text(`#faults-table tbody tr[data-kind="message"]`), "p = 0.25")

	// A maintenance window on check_status for 15 minutes; it ends by the sandbox clock.
	b.do(click(`#maintenance-form input[value="check_status"]`), setValue(`#maintenance-form input[name="duration"]`, "15m"),
		click(`#maintenance-open`), hasText(`#maintenance-msg.ok`, "open"))
	window := `#faults-table tbody tr[data-kind="maintenance"]`
	b.do(shows(window))
	assert.Contains(t, b.text(window), "check_status")
	assert.Regexp(t, `\(in 1[45]m`, b.text(window+` td.time`))
	b.shot("faults-maintenance")
	b.noOverflow("faults listed")
	env.advance(t, "16m")
	b.do(shows(window + `.ended`)) // by the "clock" change notice

	// Remove one, then clear all.
	n := len(env.faultsList(t))
	b.do(click(window+` button[data-remove]`), absent(window))
	require.Len(t, env.faultsList(t), n-1)
	b.do(click(`#faults-clear`), shows(`#faults-empty`))
	assert.Empty(t, env.faultsList(t))
	b.noScriptErrors()
}
