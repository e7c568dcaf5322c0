package server_test

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// TestADamagedRecordStopsWrites: once a request's read meets a damaged record, the
// sandbox says so in one ERROR line and refuses every write with 503 and a message
// that says why, in each surface's shape; what is whole stays readable (issue 18).
func TestADamagedRecordStopsWrites(t *testing.T) {
	e, logs := openLogged(t)
	auth := e.Auth(t)
	e.Deposit(t, "DMG-1", nil)
	e.Deposit(t, "DMG-2", nil)
	o, err := e.Store.Order(gateway.KindDeposit, testMerchant, "DMG-2")
	require.NoError(t, err)
	require.NoError(t, e.Store.DB().Update(func(tx *bolt.Tx) error {
		k := binary.BigEndian.AppendUint64(nil, o.Number)
		return tx.Bucket([]byte("orders_by_number")).Put(k, []byte(`{"kind":"deposit","amount":`))
	}))

	for range 2 {
		code, m := adminGet(t, e, "/sandbox/api/orders")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Contains(t, m["error"], "State file damaged")
	}
	code, b := e.PostMultipart(t, pathGenerateOrders, map[string]string{"username": "john", "auth": auth, "amount": "100",
		"currency": "MYR", "orderid": "DMG-3", "email": "john@example.com", "phone_number": "601012456789"})
	assert.Equal(t, http.StatusServiceUnavailable, code)
	var ans map[string]any
	require.NoError(t, json.Unmarshal(b, &ans), "%s", b)
	assert.Equal(t, false, ans["status"])
	assert.Contains(t, ans["message"], "writes are refused")

	v := e.adminOrder(t, gateway.KindDeposit, "DMG-1")
	assert.Equal(t, "DMG-1", v.OrderID, "what is whole stays readable")
	_, err = e.Store.Order(gateway.KindDeposit, testMerchant, "DMG-3")
	assert.Error(t, err, "the refused order left nothing")
	assert.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), logs.String())
	assert.Contains(t, logs.String(), "state file damaged: refusing writes")
}
