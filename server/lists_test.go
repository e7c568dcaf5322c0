package server_test

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

// TestAdminListCursor walks the orders and callback lists page by page with the
// `next` cursor: every order once, newest first, the total on every page.
func TestAdminListCursor(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, func(c *config.Config) { c.Merchants[0].CallbackURL = rc.URL })
	const n = 23
	for i := 0; i < n; i++ {
		e.Deposit(t, fmt.Sprintf("CUR-%02d", i), nil)
		if i%2 == 0 {
			code, m := adminForm(t, e, "POST", "/sandbox/api/deposits/"+fmt.Sprintf("CUR-%02d", i)+"/settle", url.Values{"outcome": {"completed"}})
			require.Equal(t, 200, code, "%v", m)
		}
	}
	var seen []string
	path := "/sandbox/api/orders?limit=5"
	for pages := 0; pages < 10; pages++ {
		code, m := adminGet(t, e, path)
		require.Equal(t, 200, code, "%v", m)
		assert.EqualValues(t, n, m["total"])
		for _, o := range m["orders"].([]any) {
			seen = append(seen, o.(map[string]any)["order_id"].(string))
		}
		next, ok := m["next"].(string)
		if !ok {
			assert.Nil(t, m["next"], "the last page has no cursor")
			break
		}
		path = "/sandbox/api/orders?limit=5&before=" + next
	}
	require.Len(t, seen, n)
	for i, id := range seen {
		assert.Equal(t, fmt.Sprintf("CUR-%02d", n-1-i), id)
	}
	code, m := adminGet(t, e, "/sandbox/api/callbacks?limit=5")
	require.Equal(t, 200, code)
	assert.EqualValues(t, 12, m["total"])
	assert.Len(t, m["callbacks"], 5)
	assert.NotNil(t, m["next"])
	for _, bad := range []string{"abc", "5-x", "5--1", "-3"} {
		code, m = adminGet(t, e, "/sandbox/api/orders?before="+bad)
		assert.Equal(t, 400, code, bad)
		assert.Contains(t, m["error"], "before", bad)
	}
	// A cursor that carries an offset (a filtered page ended at the store's scan
	// bound) replaces ?offset=: the 3 orders below CUR-03, less 1 skipped.
	code, m = adminGet(t, e, "/sandbox/api/orders?offset=50&before="+strconv.FormatUint(orderNumber(t, e, "CUR-03"), 10)+"-1")
	require.Equal(t, 200, code, "%v", m)
	assert.Len(t, m["orders"], 2)
}

// orderNumber is the gateway number of one of the default merchant's deposits.
func orderNumber(t *testing.T, e *testEnv, id string) uint64 {
	t.Helper()
	o, err := e.Store.Order(gateway.KindDeposit, testMerchant, id)
	require.NoError(t, err)
	return o.Number
}

// TestRetention deletes old settled orders with their callbacks, keeps young ones and
// the balances, and the ledger still sums to them.
func TestRetention(t *testing.T) {
	rc := newRecorder(t, nil)
	clock := newTestClock()
	e := mustOpenEnvClock(t, clock, func(c *config.Config) {
		c.Merchants[0].CallbackURL = rc.URL
		c.Retention = config.Duration(24 * time.Hour)
	})
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("OLD-%d", i)
		e.Deposit(t, id, nil)
		code, _ := adminForm(t, e, "POST", "/sandbox/api/deposits/"+id+"/settle", url.Values{"outcome": {"completed"}})
		require.Equal(t, 200, code)
	}
	e.Deposit(t, "OLD-abandoned", nil)
	require.Eventually(t, func() bool {
		_, m := adminGet(t, e, "/sandbox/api/callbacks?state=delivered")
		return m["total"] == float64(5)
	}, 10*time.Second, 10*time.Millisecond)
	before := mustBalance(t, e, testMerchant, "MYR")
	clock.Advance(48 * time.Hour)
	e.Deposit(t, "YOUNG", nil)

	e.Srv.PruneNow()
	_, m := adminGet(t, e, "/sandbox/api/orders")
	assert.EqualValues(t, 1, m["total"])
	assert.Equal(t, "YOUNG", m["orders"].([]any)[0].(map[string]any)["order_id"])
	code, _ := adminGet(t, e, "/sandbox/api/deposits/OLD-1")
	assert.Equal(t, 404, code)
	_, m = adminGet(t, e, "/sandbox/api/callbacks")
	assert.EqualValues(t, 0, m["total"])
	assert.Equal(t, before, mustBalance(t, e, testMerchant, "MYR"))
	assertLedgerConsistent(t, e)
	problems, err := e.Store.Verify()
	require.NoError(t, err)
	assert.Empty(t, problems)
}
