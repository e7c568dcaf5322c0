package store_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// TestRetryDeliveries: a retry larger than one transaction's batch moves every failed
// delivery of the merchant named back to the queue, due now, with its attempt count
// kept and a new schedule run; a retry of pending ones ends although they stay pending.
func TestRetryDeliveries(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "retry.db"))
	require.NoError(t, err)
	defer s.Close()
	var dels []*store.Delivery
	for i := range 1100 {
		m := "a"
		if i%10 == 0 {
			m = "b"
		}
		dels = append(dels, &store.Delivery{Merchant: m, Kind: gateway.KindDeposit, OrderID: fmt.Sprintf("R-%d", i),
			URL: "http://127.0.0.1:1/", Body: []byte(`{}`), State: store.DeliveryFailed, Attempts: 5})
	}
	require.NoError(t, s.Enqueue(dels))
	now := time.Now().UTC()

	n, err := s.RetryDeliveries("a", store.DeliveryFailed, now)
	require.NoError(t, err)
	assert.Equal(t, 990, n)
	due, err := s.DueDeliveries(now, 2000)
	require.NoError(t, err)
	require.Len(t, due, 990)
	for _, d := range due {
		assert.Equal(t, "a", d.Merchant)
		assert.Equal(t, store.DeliveryPending, d.State)
		assert.Equal(t, 5, d.Attempts, "the attempt count goes on")
		assert.Equal(t, 5, d.RunFrom, "a new schedule run starts here")
		assert.True(t, d.NextAt.Equal(now))
	}
	n, err = s.RetryDeliveries("a", store.DeliveryFailed, now)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing failed is left")

	later := now.Add(time.Minute)
	n, err = s.RetryDeliveries("", store.DeliveryPending, later)
	require.NoError(t, err)
	assert.Equal(t, 990, n)
	due, err = s.DueDeliveries(now, 2000)
	require.NoError(t, err)
	assert.Empty(t, due, "moved to the new due time, not copied")
	due, err = s.DueDeliveries(later, 2000)
	require.NoError(t, err)
	assert.Len(t, due, 990)

	_, err = s.RetryDeliveries("", store.DeliveryDelivered, now)
	assert.Error(t, err)
}

// TestDeliveriesCarryTheirAttempts: Deliveries and ListDeliveries give each delivery
// its attempts (Log) from the read that gave its state, so a reader that sees the
// attempt a RecordAttempt stored also sees the state it stored with it. Readers
// racing the recorder check that no read shows a delivered attempt beside a pending
// state (the admin view once read them in two transactions and could).
func TestDeliveriesCarryTheirAttempts(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "log.db"))
	require.NoError(t, err)
	defer s.Close()
	var dels []*store.Delivery
	for i := range 50 {
		dels = append(dels, &store.Delivery{Merchant: "a", Kind: gateway.KindDeposit, OrderID: fmt.Sprintf("L-%d", i),
			URL: "http://127.0.0.1:1/", Body: []byte(`{}`), State: store.DeliveryPending})
	}
	require.NoError(t, s.Enqueue(dels))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, d := range dels {
			next := *d
			next.State, next.Attempts = store.DeliveryDelivered, 1
			if err := s.RecordAttempt(&next, store.Attempt{DeliveryID: d.ID, N: 1, Time: time.Now(), Status: 200}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	check := func(d *store.Delivery) {
		if len(d.Log) == 1 {
			assert.Equal(t, store.DeliveryDelivered, d.State, "%s: an attempt beside the state before it", d.OrderID)
		} else {
			assert.Empty(t, d.Log)
			assert.Equal(t, store.DeliveryPending, d.State)
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		page, err := s.ListDeliveries(store.DeliveryFilter{Merchant: "a", Limit: 50})
		require.NoError(t, err)
		for _, d := range page.Deliveries {
			check(d)
		}
		one, err := s.Deliveries(gateway.KindDeposit, "a", "L-25")
		require.NoError(t, err)
		require.Len(t, one, 1)
		check(one[0])
	}
	page, err := s.ListDeliveries(store.DeliveryFilter{Merchant: "a", Limit: 50})
	require.NoError(t, err)
	require.Len(t, page.Deliveries, 50)
	for _, d := range page.Deliveries {
		require.Len(t, d.Log, 1, d.OrderID)
		assert.Equal(t, 200, d.Log[0].Status)
	}
}
