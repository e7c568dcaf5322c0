package sandboxtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

// TestConnect_AdvanceFollowsTheJob: a move the shared sandbox answers with 202 and a
// job (here every move: wait=0s) is polled to its end; Advance returns with the
// payout settled and its callback received, as for a move answered 200.
func TestConnect_AdvanceFollowsTheJob(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	shared := New(t, WithClock(clock.Frozen(start)),
		WithConfig(func(c *config.Config) { c.WithdrawalDelay = config.Duration(10 * time.Minute) }))
	sb := Connect(t, shared.URL)
	was := advanceWait
	advanceWait = "0s"
	t.Cleanup(func() { advanceWait = was })

	_, err := sb.Client.WithdrawOrder(context.Background(), client.WithdrawalRequest{Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "wd-job", BankID: "1", HolderName: "John Doe", AccountNo: "12332343432"})
	require.NoError(t, err)
	require.NoError(t, sb.Advance(10*time.Minute))
	assert.Equal(t, start.Add(10*time.Minute), sb.Now())
	require.Len(t, sb.Recorder.Deliveries(), 1, "the callback came before Advance returned")
	assert.Equal(t, gateway.StatusCompleted, sb.Recorder.Deliveries()[0].Callback.OrderStatus)
	assert.ErrorContains(t, sb.Advance(200*365*24*time.Hour), "2200-01-01T00:00:00Z", "a refusal names the limit")
}
