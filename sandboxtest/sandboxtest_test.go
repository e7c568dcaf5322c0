package sandboxtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

func deposit(orderID, email string) client.DepositRequest {
	return client.DepositRequest{Username: "john", Amount: gateway.MustMoney("300"), Currency: "MYR",
		OrderID: orderID, Email: email, PhoneNumber: "601012456789"}
}

func TestSandbox_DepositCallback(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx := context.Background()
	assert.Equal(t, "vpay88-test", sb.Username)
	assert.Equal(t, "vpay88-test-secret", sb.SecretKey)

	res, err := sb.Client.GenerateOrder(ctx, deposit("dep-1", "success@example.com"))
	require.NoError(t, err)
	assert.Contains(t, res.PURL, sb.URL+"/checkout/order-pay/")

	cb, err := sb.Recorder.Wait("dep-1", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusCompleted, cb.OrderStatus)
	assert.Equal(t, gateway.MustMoney("300"), cb.Amount)
	assert.Equal(t, "9.0000", cb.Charge)
	assert.Equal(t, gateway.KindDeposit, cb.Type)
	assert.Equal(t, gateway.Token(sb.SecretKey, "dep-1"), cb.Token)

	st, err := sb.Client.CheckStatus(ctx, "dep-1")
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusCompleted, st.OrderStatus)
}

func TestSandbox_WithdrawalCompletesFast(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx := context.Background()
	_, err := sb.Client.WithdrawOrder(ctx, client.WithdrawalRequest{Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "wd-1", BankID: "1", HolderName: "John Doe", AccountNo: "12332343432"})
	require.NoError(t, err)
	cb, err := sb.Recorder.Wait("wd-1", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusCompleted, cb.OrderStatus)
	assert.Equal(t, "Success", cb.Remarks)
	assert.Equal(t, "5.00", cb.Charge)
}

func TestSandbox_RecorderRetries(t *testing.T) {
	sb := sandboxtest.New(t)
	sb.Recorder.FailNext(2)
	_, err := sb.Client.GenerateOrder(context.Background(), deposit("dep-retry", "fail@example.com"))
	require.NoError(t, err)
	cb, err := sb.Recorder.Wait("dep-retry", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusFail, cb.OrderStatus)
	ds := sb.Recorder.Deliveries()
	require.Len(t, ds, 3, "two refused attempts, then the acknowledged one")
	assert.Equal(t, http.StatusServiceUnavailable, ds[0].Answered)
	assert.Equal(t, http.StatusOK, ds[2].Answered)
	assert.Len(t, sb.Recorder.Callbacks("dep-retry"), 3)
}

func TestSandbox_WaitTimesOut(t *testing.T) {
	sb := sandboxtest.New(t)
	_, err := sb.Recorder.Wait("never", 50*time.Millisecond)
	assert.ErrorIs(t, err, sandboxtest.ErrTimeout)
}

func TestSandbox_WithConfig(t *testing.T) {
	sb := sandboxtest.New(t, sandboxtest.WithConfig(func(c *config.Config) {
		c.Merchants[0].Username = "acme"
		c.Merchants[0].APIKey = "acme-key"
		c.Merchants[0].SecretKey = "acme-secret"
	}), sandboxtest.WithSeed(7))
	assert.Equal(t, "acme", sb.Username)
	ctx := context.Background()
	_, err := sb.Client.Auth(ctx)
	require.NoError(t, err)

	bad := client.New(sb.URL, client.WithCredentials("acme", "wrong"))
	_, err = bad.Auth(ctx)
	assert.ErrorIs(t, err, client.ErrParamsIncorrect)
	var ae *client.APIError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, "Params incorrect", ae.Message)
}

func TestStart_Close(t *testing.T) {
	sb, err := sandboxtest.Start()
	require.NoError(t, err)
	_, err = sb.Client.Currency(context.Background())
	require.NoError(t, err)
	sb.Close()
	sb.Close() // twice is fine
	_, err = sb.Client.Currency(context.Background())
	require.Error(t, err, "closed sandbox no longer answers")
}

// TestSandbox_Advance: on a frozen clock a payout waits for its withdrawal_delay;
// sb.Advance passes it and returns with the callback already received, and a token
// older than its lifetime is refused after.
func TestSandbox_Advance(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	sb := sandboxtest.New(t, sandboxtest.WithClock(clock.Frozen(start)),
		sandboxtest.WithConfig(func(c *config.Config) { c.WithdrawalDelay = config.Duration(10 * time.Minute) }))
	ctx := context.Background()
	_, err := sb.Client.WithdrawOrder(ctx, client.WithdrawalRequest{Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "wd-clock", BankID: "1", HolderName: "John Doe", AccountNo: "12332343432"})
	require.NoError(t, err)
	require.NoError(t, sb.Advance(9*time.Minute))
	assert.Empty(t, sb.Recorder.Deliveries())
	require.NoError(t, sb.Advance(time.Minute))
	assert.WithinDuration(t, start.Add(10*time.Minute), sb.Now(), 0)
	require.Len(t, sb.Recorder.Deliveries(), 1, "the callback came before Advance returned")
	assert.Equal(t, gateway.StatusCompleted, sb.Recorder.Deliveries()[0].Callback.OrderStatus)

	tok, err := sb.Client.Auth(ctx)
	require.NoError(t, err)
	require.NoError(t, sb.Advance(31*time.Minute))
	late := deposit("dep-late", "john@example.com")
	late.Auth = tok.Auth
	_, err = sb.Client.GenerateOrder(ctx, late)
	assert.ErrorContains(t, err, gateway.MsgParamsIncorrectDot, "the token expired with the clock")
	assert.Error(t, sb.Advance(-time.Second))
}

// BenchmarkNew measures what each test pays to start a sandbox; each is closed at
// once so the loop does not hold hundreds of listeners and bbolt files open.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		sandboxtest.New(b).Close()
	}
}

// TestConnect_ParallelTestsShareOneSandbox: parallel tests Connect to one running
// sandbox, each on a merchant of its own: the same order id in each, each callback to
// its own Recorder signed with its own secret, each count of requests its own; the
// merchants are gone once the tests end.
func TestConnect_ParallelTestsShareOneSandbox(t *testing.T) {
	shared, err := sandboxtest.Start()
	require.NoError(t, err)
	t.Cleanup(shared.Close)
	var secrets sync.Map
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(fmt.Sprint("pipeline-", i), func(t *testing.T) {
				t.Parallel()
				sb := sandboxtest.Connect(t, shared.URL)
				_, dup := secrets.LoadOrStore(sb.SecretKey, true)
				assert.False(t, dup, "a merchant of its own")
				ctx := context.Background()
				_, err := sb.Client.GenerateOrder(ctx, deposit("shared-id", "success@example.com"))
				require.NoError(t, err)
				_, err = sb.Client.GenerateOrder(ctx, deposit("shared-id", "success@example.com"))
				require.ErrorContains(t, err, gateway.MsgOrderIDExist)
				cb, err := sb.Recorder.Wait("shared-id", 10*time.Second)
				require.NoError(t, err)
				assert.Equal(t, gateway.Token(sb.SecretKey, "shared-id"), cb.Token)
				assert.Equal(t, 2, sb.RequestCount(t, sandboxtest.RequestFilter{Endpoint: client.EndpointGenerateOrders, OrderID: "shared-id"}))
				assert.Equal(t, 1, sb.RequestCount(t, sandboxtest.RequestFilter{Endpoint: client.EndpointGenerateOrders, OrderID: "shared-id", Message: "OK"}))
				st, err := sb.Client.CheckStatus(ctx, "shared-id")
				require.NoError(t, err)
				assert.Equal(t, gateway.StatusCompleted, st.OrderStatus)
			})
		}
	})
	var list struct {
		Merchants []struct {
			Username string `json:"username"`
		} `json:"merchants"`
	}
	resp, err := http.Get(shared.URL + "/sandbox/api/merchants")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	assert.Len(t, list.Merchants, 1, "every Connect's merchant was deleted at its cleanup")
}

// TestConnect_Unreachable: Connect to nothing fails with the address in the error.
func TestConnect_Unreachable(t *testing.T) {
	_, err := sandboxtest.Dial("http://127.0.0.1:1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "127.0.0.1:1")
}

// errorsTB keeps what a helper reports with Errorf, so a test can see a failure told.
type errorsTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (e *errorsTB) Errorf(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

// TestConnect_NowWhenTheSandboxIsGone: once the shared sandbox cannot be asked, Now
// fails the test that connected (and returns the zero time), or panics over Dial,
// rather than hand back a zero time as if it were the sandbox's.
func TestConnect_NowWhenTheSandboxIsGone(t *testing.T) {
	shared, err := sandboxtest.Start()
	require.NoError(t, err)
	rec := &errorsTB{TB: t}
	sb := sandboxtest.Connect(rec, shared.URL)
	dialed, err := sandboxtest.Dial(shared.URL)
	require.NoError(t, err)
	defer dialed.Close()
	require.False(t, sb.Now().IsZero())
	require.False(t, dialed.Now().IsZero())
	require.Empty(t, rec.errs)

	shared.Close()
	assert.True(t, sb.Now().IsZero())
	require.Len(t, rec.errs, 1)
	assert.Contains(t, rec.errs[0], shared.URL)
	assert.Panics(t, func() { dialed.Now() })
}

// TestSandbox_CustomerActions: Pay, Fail, Settle, SetBalance and Reset act on the
// merchant's orders through the admin API, the same in process and over Connect.
func TestSandbox_CustomerActions(t *testing.T) {
	shared, err := sandboxtest.Start()
	require.NoError(t, err)
	t.Cleanup(shared.Close)
	for name, start := range map[string]func(*testing.T) *sandboxtest.Sandbox{
		"New":     func(t *testing.T) *sandboxtest.Sandbox { return sandboxtest.New(t) },
		"Connect": func(t *testing.T) *sandboxtest.Sandbox { return sandboxtest.Connect(t, shared.URL) },
	} {
		t.Run(name, func(t *testing.T) {
			sb := start(t)
			ctx := context.Background()
			for _, id := range []string{"pay-1", "fail-1"} {
				_, err := sb.Client.GenerateOrder(ctx, deposit(id, "john@example.com"))
				require.NoError(t, err)
			}
			require.NoError(t, sb.Pay("pay-1"))
			require.NoError(t, sb.Fail("fail-1"))
			paid, err := sb.Recorder.Wait("pay-1", 5*time.Second)
			require.NoError(t, err)
			assert.Equal(t, gateway.StatusCompleted, paid.OrderStatus)
			failed, err := sb.Recorder.Wait("fail-1", 5*time.Second)
			require.NoError(t, err)
			assert.Equal(t, gateway.StatusFail, failed.OrderStatus)

			err = sb.Pay("pay-1")
			require.Error(t, err, "a settled order cannot be paid again")
			assert.Contains(t, err.Error(), "409")
			require.ErrorContains(t, sb.Pay("no-such-order"), "404")
			require.ErrorContains(t, sb.Settle("refund", "pay-1", gateway.OutcomeCompleted), "unknown kind")

			_, err = sb.Client.WithdrawOrder(ctx, client.WithdrawalRequest{Amount: gateway.MustMoney("100"), Currency: "MYR",
				OrderID: "wd-held", BankID: "1", HolderName: "John Doe", AccountNo: "4000000009"})
			require.NoError(t, err)
			require.NoError(t, sb.Settle(gateway.KindWithdrawal, "wd-held", gateway.OutcomeFail, sandboxtest.WithRemarks("Bank closed")))
			wd, err := sb.Recorder.Wait("wd-held", 5*time.Second)
			require.NoError(t, err)
			assert.Equal(t, gateway.StatusFail, wd.OrderStatus)
			assert.Equal(t, "Bank closed", wd.Remarks)

			require.NoError(t, sb.SetBalance("MYR", "10"))
			_, err = sb.Client.WithdrawOrder(ctx, client.WithdrawalRequest{Amount: gateway.MustMoney("100"), Currency: "MYR",
				OrderID: "wd-short", BankID: "1", HolderName: "John Doe", AccountNo: "12332343432"})
			require.ErrorContains(t, err, gateway.MsgBalanceNotEnough)
			require.Error(t, sb.SetBalance("MYR", "ten"))

			require.NoError(t, sb.Reset())
			_, err = sb.Client.CheckStatus(ctx, "pay-1")
			require.ErrorContains(t, err, gateway.MsgOrderNotFound, "Reset deleted the merchant's orders")
			_, err = sb.Client.GenerateOrder(ctx, deposit("pay-1", "john@example.com"))
			require.NoError(t, err, "the id is free again after Reset")
		})
	}
}

// TestSandbox_SettleOptionsAndRecorder: Settle's name and charge reach the callback,
// and the Recorder's own methods see what came.
func TestSandbox_SettleOptionsAndRecorder(t *testing.T) {
	sb := sandboxtest.New(t)
	assert.Contains(t, sb.Recorder.URL(), "http://127.0.0.1:")
	_, err := sb.Client.GenerateOrder(context.Background(), deposit("opt-1", "john@example.com"))
	require.NoError(t, err)
	require.NoError(t, sb.Settle(gateway.KindDeposit, "opt-1", gateway.OutcomeCompleted,
		sandboxtest.WithName("Siti Aminah"), sandboxtest.WithCharge("1.5000")))
	got, err := sb.Recorder.Next(1, 5*time.Second)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.True(t, got[0].Verified(), "%v", got[0].Err)
	assert.Equal(t, "Siti Aminah", got[0].Callback.Name)
	assert.Equal(t, "1.5000", got[0].Callback.Charge)
	assert.Equal(t, 1, sb.Recorder.Count())
	sb.Recorder.Reset()
	assert.Equal(t, 0, sb.Recorder.Count())
}
