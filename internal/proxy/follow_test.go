package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

// MustStartTarget starts a gateway that is a real sandbox with changes: the target
// the proxy is put in front of. Its admin API stands for the real gateway's own
// progress (a customer paying, a bank rejecting a payout).
func MustStartTarget(tb testing.TB, changes ...func(*config.Config)) *inproc.Sandbox {
	tb.Helper()
	sb, err := inproc.Start(inproc.Options{NoSync: true, Changes: changes})
	require.NoError(tb, err)
	tb.Cleanup(sb.Close)
	return sb
}

// conversation sends vendor requests through the proxy with the client the way the
// vendor's PHP posts them.
type conversation struct {
	t     *testing.T
	front string
	gw    *client.Client
	auth  string
}

func converse(t *testing.T, front string) *conversation {
	c := &conversation{t: t, front: front, gw: client.New(front)}
	var a struct{ Auth string }
	c.decode(c.call(client.EndpointAuth, url.Values{"username": {username}, "api_key": {apiKey}}), &a)
	require.NotEmpty(t, a.Auth)
	c.auth = a.Auth
	return c
}

func (c *conversation) call(e client.Endpoint, fields url.Values) *client.Response {
	c.t.Helper()
	resp, err := c.gw.Do(context.Background(), e, fields)
	require.NoError(c.t, err)
	return resp
}

func (c *conversation) decode(resp *client.Response, v any) {
	c.t.Helper()
	require.NoError(c.t, json.Unmarshal(resp.Body, v))
}

func (c *conversation) deposit(id, amount string) *client.Response {
	return c.call(client.EndpointGenerateOrders, url.Values{"username": {"john"}, "auth": {c.auth}, "amount": {amount},
		"currency": {"MYR"}, "orderid": {id}, "email": {"john@example.com"}, "phone_number": {"601012456789"}})
}

func (c *conversation) payout(id, amount string) *client.Response {
	return c.call(client.EndpointWithdrawOrders, url.Values{"auth": {c.auth}, "amount": {amount}, "currency": {"MYR"},
		"orderid": {id}, "bank_id": {"1"}, "holder_name": {"John Tan"}, "account_no": {"1234567890"}, "bank_branch": {"KL"}})
}

func (c *conversation) status(e client.Endpoint, id string) {
	c.call(e, url.Values{"username": {username}, "id": {id}})
}

// settleAtTarget settles an order at the target through its admin API, as the real
// gateway's customer or bank would.
func settleAtTarget(t *testing.T, target *inproc.Sandbox, kind gateway.Kind, id, outcome string) {
	t.Helper()
	resp, err := http.PostForm(target.URL+"/sandbox/api/"+string(kind)+"s/"+id+"/settle", url.Values{"outcome": {outcome}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func mustSync(t *testing.T, p *proxy.Proxy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.Sync(ctx))
}

// differences lists a report's differences as "#exchange endpoint path kind profile",
// and its skipped steps as "#exchange endpoint skipped", sorted.
func differences(rep *parity.Report) []string {
	var out []string
	for _, st := range rep.Steps {
		if st.Skipped != "" {
			out = append(out, st.Name+" skipped")
		}
		for _, d := range st.Diffs {
			out = append(out, strings.Join([]string{st.Name, d.Path, d.Kind, d.Profile}, " "))
		}
	}
	slices.Sort(out)
	return out
}

func notes(rep *parity.Report) map[string][]string {
	out := map[string][]string{}
	for _, st := range rep.Steps {
		out[st.Name] = st.Notes
	}
	return out
}

// TestProxyFollowsTarget: the target's limits are wider than the shadow's, so it
// accepts a deposit and two payouts the shadow refuses. The deposit and the first
// payout are created in the shadow (its p_url page and status checks are compared
// again), and when the target settles them the shadow follows at the next check.
// The second payout is more than the shadow's balance can reserve: it is left apart.
// The shadow's ledger stays whole throughout; the recording replays to the same
// differences.
func TestProxyFollowsTarget(t *testing.T) {
	target := MustStartTarget(t, func(cfg *config.Config) {
		cur := &cfg.Merchants[0].Currencies[0]
		require.Equal(t, "MYR", cur.Code)
		cur.Max, cur.StartBalance = gateway.MustMoney("5000000"), gateway.MustMoney("10000000")
		cfg.WithdrawalDelay = config.Duration(time.Hour) // the test settles the target's payouts
	})
	recording := filepath.Join(t.TempDir(), "capture.jsonl")
	p, err := proxy.New(proxy.Options{Target: target.URL, Record: recording})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = p.Close() })

	c := converse(t, front.URL) // #1
	var dep struct {
		PURL string `json:"p_url"`
	}
	c.decode(c.deposit("PF-BIG", "60000"), &dep) // #2
	require.NotEmpty(t, dep.PURL, "the target accepts the deposit")
	pu, err := url.Parse(dep.PURL)
	require.NoError(t, err)
	page, err := http.Get(front.URL + pu.RequestURI()) // #3: the checkout page, through the proxy
	require.NoError(t, err)
	page.Body.Close()
	c.status(client.EndpointCheckStatus, "PF-BIG") // #4: pending on both sides
	settleAtTarget(t, target, gateway.KindDeposit, "PF-BIG", "completed")
	c.status(client.EndpointCheckStatus, "PF-BIG") // #5: completed at the target; the shadow follows
	c.status(client.EndpointCheckStatus, "PF-BIG") // #6: like for like

	c.payout("PW-BIG", "60000")                            // #7
	c.status(client.EndpointCheckWithdrawStatus, "PW-BIG") // #8
	settleAtTarget(t, target, gateway.KindWithdrawal, "PW-BIG", "rejected")
	c.status(client.EndpointCheckWithdrawStatus, "PW-BIG") // #9
	c.status(client.EndpointCheckWithdrawStatus, "PW-BIG") // #10

	c.payout("PW-HUGE", "2000000")                          // #11: over the shadow's balance
	c.status(client.EndpointCheckWithdrawStatus, "PW-HUGE") // #12: not compared
	mustSync(t, p)

	rep := p.Report()
	want := []string{
		"#11 withdraw_orders message value neither",
		"#11 withdraw_orders status value neither",
		"#11 withdraw_orders withdraw_order_id key_only_in_target neither",
		"#12 check_withdraw_status skipped",
		"#2 generate_orders message key_only_in_sandbox neither",
		"#2 generate_orders p_url key_only_in_target neither",
		"#2 generate_orders status value neither",
		"#5 check_status order_status value neither",
		"#7 withdraw_orders message value neither",
		"#7 withdraw_orders status value neither",
		"#7 withdraw_orders withdraw_order_id key_only_in_target neither",
		"#9 check_withdraw_status order_status value neither",
	}
	assert.Equal(t, want, differences(rep), "the creations, the first check after each settlement, and nothing else")
	n := notes(rep)
	assert.Contains(t, n["#2 generate_orders"], "order PF-BIG: the target accepted it, the shadow refused it; created in the shadow to follow the target")
	assert.Contains(t, n["#5 check_status"], "order PF-BIG: the target's is completed, the shadow's was pending; settled in the shadow to follow the target")
	assert.Contains(t, n["#7 withdraw_orders"], "order PW-BIG: the target accepted it, the shadow refused it; created in the shadow to follow the target")
	assert.Contains(t, n["#9 check_withdraw_status"], "order PW-BIG: the target's is rejected, the shadow's was pending; settled in the shadow to follow the target")
	assert.Contains(t, strings.Join(n["#11 withdraw_orders"], "\n"), "cannot follow: the shadow's balance does not cover its reserve")
	for _, st := range rep.Steps {
		if st.Name == "#3 p_url page "+pu.Path {
			assert.Empty(t, st.Diffs, "the target's p_url reaches the shadow's page of the order it created")
			assert.Equal(t, http.StatusOK, st.Sandbox.Status)
		}
	}

	shadows := proxy.ShadowSandboxes(p)
	require.Len(t, shadows, 2, "the main shadow and the attribution's")
	for _, sb := range shadows {
		problems, err := sb.Store.Verify()
		require.NoError(t, err)
		assert.Empty(t, problems, "the shadow's ledger and reservations are whole")
		dep, err := sb.Store.Order(gateway.KindDeposit, sb.Username, "PF-BIG")
		require.NoError(t, err)
		assert.Equal(t, gateway.StatusCompleted, dep.Status)
		wd, err := sb.Store.Order(gateway.KindWithdrawal, sb.Username, "PW-BIG")
		require.NoError(t, err)
		assert.Equal(t, gateway.StatusRejected, wd.Status)
		_, err = sb.Store.Order(gateway.KindWithdrawal, sb.Username, "PW-HUGE")
		assert.Error(t, err, "a payout the shadow's balance cannot reserve is not created")
		bals, err := sb.Store.Balances(sb.Username)
		require.NoError(t, err)
		for _, b := range bals {
			assert.Zero(t, b.Reserved, "%s: the rejected payout's reserve went back", b.Currency)
		}
	}

	require.NoError(t, p.Close())
	replayed, err := proxy.Replay(context.Background(), recording, proxy.ReplayOptions{})
	require.NoError(t, err)
	assert.Equal(t, want, differences(replayed), "the recording replays to the same differences, none invented")
	assert.Equal(t, notes(rep), notes(replayed), "and the shadow follows the target the same way")
}
