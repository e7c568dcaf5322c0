package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

func mustOpen(tb testing.TB) *Store {
	tb.Helper()
	return mustOpenWith(tb, WithoutSync())
}

// deposit is a pending MYR deposit of 10.
func deposit(m, id string) *gateway.Order {
	return &gateway.Order{Kind: gateway.KindDeposit, Merchant: m, OrderID: id, Amount: gateway.MustMoney("10"),
		Currency: "MYR", Status: gateway.StatusPending, CreatedAt: time.Now()}
}

// mustOpenDurable opens a store as the binary's default does: fsync at every commit.
func mustOpenDurable(tb testing.TB) *Store {
	tb.Helper()
	return mustOpenWith(tb)
}

// mustOpenWith opens a store on a new file of the test's, closed at its end.
func mustOpenWith(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "s.db"), opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

func mustClean(tb testing.TB, s *Store) {
	tb.Helper()
	problems, err := s.Verify()
	require.NoError(tb, err)
	require.Empty(tb, problems)
}

// holdCommitter queues a write that blocks the committer until release is called, so
// the writes queued meanwhile share the next batch.
func holdCommitter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.write(func(tx *bolt.Tx) error {
			close(started)
			<-gate
			return nil
		})
	}()
	<-started
	return func() {
		close(gate)
		require.NoError(t, <-done)
	}
}

// waitQueued waits until n writes are queued behind the held committer.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.qmu.Lock()
		defer s.qmu.Unlock()
		return len(s.queue) >= n
	}, 5*time.Second, time.Millisecond)
}

// TestBatchRollsBackFailedWrites: writes that fail or panic after writing share a
// batch with good ones; the good ones commit, the failed ones leave nothing.
func TestBatchRollsBackFailedWrites(t *testing.T) {
	s := mustOpen(t)
	release := holdCommitter(t, s)
	kinds := []string{"good", "fail", "good", "panic", "good", "fail", "fail", "good", "panic", "good"}
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, kind := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.write(func(tx *bolt.Tx) error {
				if err := tx.Bucket(bucketTokens).Put([]byte(fmt.Sprintf("k%d", i)), []byte(`{}`)); err != nil {
					return err
				}
				switch kind {
				case "fail":
					return errors.New("failed after writing")
				case "panic":
					panic("panicked after writing")
				}
				return nil
			})
		}()
	}
	waitQueued(t, s, len(kinds))
	release()
	wg.Wait()
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		for i, kind := range kinds {
			got := tx.Bucket(bucketTokens).Get([]byte(fmt.Sprintf("k%d", i)))
			if kind == "good" {
				assert.NoError(t, errs[i])
				assert.NotNil(t, got, "write %d (good) is committed", i)
			} else {
				assert.Error(t, errs[i], "write %d (%s) answers its error", i, kind)
				assert.Nil(t, got, "write %d (%s) left a trace", i, kind)
			}
		}
		return nil
	}))
	assert.ErrorContains(t, errs[3], "panicked after writing")
}

// TestHugeOrderIDLeavesNoTrace: a payout whose id bbolt refuses as a key (after the
// reservation was written) leaves no reservation, no ledger entry and no order, even
// when it shares a batch with payouts that succeed.
func TestHugeOrderIDLeavesNoTrace(t *testing.T) {
	s := mustOpen(t)
	require.NoError(t, s.EnsureBalances([]Balance{{Merchant: "m", Currency: "MYR", Available: gateway.MustMoney("1000")}}))
	release := holdCommitter(t, s)
	huge := strings.Repeat("x", 40_000)
	ids := []string{"ok-1", huge, "ok-2", huge + "y", "ok-3"}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateWithdrawal(withdrawal("m", id, "10", "5"))
		}()
	}
	waitQueued(t, s, len(ids))
	release()
	wg.Wait()
	for i, id := range ids {
		if len(id) > 100 {
			assert.ErrorIs(t, errs[i], bolterrors.ErrKeyTooLarge)
			_, err := s.Order(gateway.KindWithdrawal, "m", id)
			assert.ErrorIs(t, err, ErrNotFound)
		} else {
			assert.NoError(t, errs[i])
		}
	}
	bals, err := s.Balances("m")
	require.NoError(t, err)
	require.Len(t, bals, 1)
	assert.Equal(t, "955.0000", bals[0].Available.String(), "three payouts of 10 + 5 reserved, none for the failed ones")
	assert.Equal(t, "45.0000", bals[0].Reserved.String())
	ledger, err := s.Ledger("m")
	require.NoError(t, err)
	assert.Len(t, ledger, 4, "the opening and three reservations")
	mustClean(t, s)
}

func withdrawal(merchant, id, amount, fee string) *gateway.Order {
	a := gateway.MustMoney(amount)
	return &gateway.Order{Kind: gateway.KindWithdrawal, Merchant: merchant, OrderID: id, Amount: a, Currency: "MYR",
		Status: gateway.StatusPending, Reserved: a + gateway.MustMoney(fee), CreatedAt: time.Now()}
}

// TestRandomFailuresKeepInvariants interleaves good requests with requests that fail
// or panic after partial writes (balance changes, ledger entries, orders), from many
// goroutines, and checks every invariant afterwards: a failed write rolls back the
// batch it shared, and the others commit without it.
func TestRandomFailuresKeepInvariants(t *testing.T) {
	s := mustOpenDurable(t)
	merchants := []string{"a", "b", "c"}
	var opening []Balance
	for _, m := range merchants {
		opening = append(opening, Balance{Merchant: m, Currency: "MYR", Available: gateway.MustMoney("500")})
	}
	require.NoError(t, s.EnsureBalances(opening))
	var mu sync.Mutex
	created := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < 60; i++ {
				m := merchants[r.IntN(len(merchants))]
				id := fmt.Sprintf("w%d-%d", w, i)
				var err error
				switch r.IntN(6) {
				case 0:
					err = s.CreateDeposit(&gateway.Order{Kind: gateway.KindDeposit, Merchant: m, OrderID: id,
						Amount: gateway.MustMoney("10"), Currency: "MYR", Status: gateway.StatusPending, CreatedAt: time.Now()})
				case 1:
					err = s.CreateWithdrawal(withdrawal(m, id, "7", "1"))
				case 2: // a payout that fails after its reservation: the key is too large
					err = s.CreateWithdrawal(withdrawal(m, id+strings.Repeat("z", 33_000), "7", "1"))
					require.Error(t, err)
					continue
				case 3: // a write that moves money, then panics
					moveThenPanic := func(tx *bolt.Tx) error {
						bal, err := getBalance(tx, m, "MYR")
						if err != nil {
							return err
						}
						if err := s.setBalance(tx, bal, gateway.MustMoney("1"), 0, ReasonAdminSet, "", ""); err != nil {
							return err
						}
						panic("after the ledger entry")
					}
					err = s.write(moveThenPanic)
					require.Error(t, err)
					continue
				case 4: // a settlement whose rule fails after changing the order
					mu.Lock()
					var pick string
					for k := range created {
						pick = k
						break
					}
					mu.Unlock()
					if pick == "" {
						continue
					}
					parts := strings.SplitN(pick, "|", 3)
					_, _, err = s.Settle(gateway.Kind(parts[0]), parts[1], parts[2], func(o *gateway.Order) ([]*Delivery, error) {
						o.Status = gateway.StatusCompleted
						return []*Delivery{{Merchant: o.Merchant, Kind: o.Kind, OrderID: o.OrderID, URL: "http://127.0.0.1:1/"}},
							errors.New("rule failed")
					})
					require.Error(t, err)
					continue
				default: // a settlement that succeeds
					mu.Lock()
					var pick string
					for k := range created {
						pick = k
						delete(created, k)
						break
					}
					mu.Unlock()
					if pick == "" {
						continue
					}
					parts := strings.SplitN(pick, "|", 3)
					_, _, err = s.Settle(gateway.Kind(parts[0]), parts[1], parts[2], func(o *gateway.Order) ([]*Delivery, error) {
						o.Status = gateway.StatusCompleted
						o.Charge = gateway.MustMoney("1")
						return []*Delivery{{Merchant: o.Merchant, Kind: o.Kind, OrderID: o.OrderID, URL: "http://127.0.0.1:1/"}}, nil
					})
					if err != nil && !errors.Is(err, ErrAlreadySettled) {
						require.NoError(t, err)
					}
					continue
				}
				if err == nil {
					kind := gateway.KindDeposit
					if o, _ := s.Order(gateway.KindWithdrawal, m, id); o != nil {
						kind = gateway.KindWithdrawal
					}
					mu.Lock()
					created[string(kind)+"|"+m+"|"+id] = true
					mu.Unlock()
				} else {
					require.ErrorIs(t, err, ErrInsufficientBalance)
				}
			}
		}()
	}
	wg.Wait()
	mustClean(t, s)
}
