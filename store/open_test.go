package store

import (
	"crypto/rand"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/clock"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

// realFile writes a state file with a few thousand orders and callbacks and closes it.
func realFile(t *testing.T) (string, []byte) {
	t.Helper()
	s := mustOpen(t)
	fillOrders(t, s, 3000)
	path := s.db.Path()
	require.NoError(t, s.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return path, b
}

// TestOpenDamagedFile: every truncation of a real file, and files of random bytes,
// open as ErrDamaged with a message that names the file and what to do, or (when the
// damage missed every page in use) open whole; never a crash.
func TestOpenDamagedFile(t *testing.T) {
	_, good := realFile(t)
	require.Greater(t, len(good), 1<<20, "the real file should pass 1 MB for the 1 MB cut")
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	cases := map[string][]byte{
		"8KiB":            good[:8<<10],
		"1MB":             good[:1<<20],
		"half":            good[:len(good)/2],
		"all-but-a-page":  good[:len(good)-4096],
		"one byte":        good[:1],
		"first page only": good[:4096],
		"random 100B":     random(100),
		"random 64KiB":    random(64 << 10),
		"random 2MiB":     random(2 << 20),
		"zeroed metas":    append(make([]byte, 8192), good[8192:]...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "damaged.db")
			require.NoError(t, os.WriteFile(path, data, 0o600))
			s, err := Open(path)
			if err == nil {
				// The cut only removed pages past the high-water mark: a whole file.
				defer s.Close()
				mustClean(t, s)
				return
			}
			assert.ErrorIs(t, err, ErrDamaged)
			msg := err.Error()
			assert.Contains(t, msg, path)
			assert.Contains(t, msg, "restore a copy")
			assert.NotContains(t, msg, "\n")
		})
	}
	// A cut inside the pages in use is always refused.
	path := filepath.Join(t.TempDir(), "cut.db")
	require.NoError(t, os.WriteFile(path, good[:len(good)/2], 0o600))
	_, err := Open(path)
	require.ErrorIs(t, err, ErrDamaged)
	assert.Contains(t, err.Error(), "truncated")
}

// TestOpenFileInUse: a second open of a file another store holds says so.
func TestOpenFileInUse(t *testing.T) {
	s := mustOpen(t)
	_, err := Open(s.db.Path())
	require.ErrorIs(t, err, ErrInUse)
	assert.Contains(t, err.Error(), "in use by another process")
	assert.Contains(t, err.Error(), s.db.Path())
}

// TestPrune deletes old settled and abandoned orders with their callbacks, keeps young
// ones and ones with work still to do, and folds the old ledger entries.
func TestPrune(t *testing.T) {
	old := time.Now().Add(-48 * time.Hour)
	clk := clock.Frozen(old)
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), WithClock(clk))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.EnsureBalances([]Balance{{Merchant: "m", Currency: "MYR", Available: gateway.MustMoney("1000")}}))
	mk := func(id string, settle gateway.Status, at time.Time, scheduled bool) {
		o := withdrawal("m", id, "10", "1")
		o.CreatedAt = at
		if scheduled {
			o.SettleAt = at.Add(time.Hour * 100)
		}
		require.NoError(t, s.CreateWithdrawal(o))
		if settle != "" {
			_, _, err := s.Settle(o.Kind, "m", id, func(o *gateway.Order) ([]*Delivery, error) {
				o.Status = settle
				o.Charge = gateway.MustMoney("1")
				return []*Delivery{{Merchant: "m", Kind: o.Kind, OrderID: id, URL: "http://127.0.0.1:1/", State: DeliveryDelivered}}, nil
			})
			require.NoError(t, err)
		}
	}
	for i := 0; i < 30; i++ {
		mk(fmt.Sprintf("old-done-%d", i), gateway.StatusCompleted, old, false)
	}
	mk("old-payout-pending", "", old, false)
	abandoned := &gateway.Order{Kind: gateway.KindDeposit, Merchant: "m", OrderID: "old-abandoned", Amount: gateway.MustMoney("1"),
		Currency: "MYR", Status: gateway.StatusPending, CreatedAt: old}
	require.NoError(t, s.CreateDeposit(abandoned))
	mk("old-scheduled", "", old, true)
	require.NoError(t, clk.Set(time.Now()))
	mk("young", gateway.StatusCompleted, time.Now(), false)
	before, err := s.Balances("m")
	require.NoError(t, err)

	cutoff := time.Now().Add(-24 * time.Hour)
	total := 0
	for i := 0; i < 20; i++ {
		res, err := s.Prune(cutoff, 7)
		require.NoError(t, err)
		total += res.Orders
		mustClean(t, s)
		if !res.More {
			break
		}
	}
	assert.Equal(t, 31, total, "30 settled and 1 abandoned deposit")
	page, err := s.ListOrders(OrderFilter{})
	require.NoError(t, err)
	var ids []string
	for _, o := range page.Orders {
		ids = append(ids, o.OrderID)
	}
	assert.ElementsMatch(t, []string{"young", "old-scheduled", "old-payout-pending"}, ids)
	dels, err := s.ListDeliveries(DeliveryFilter{})
	require.NoError(t, err)
	assert.Equal(t, 1, dels.Total, "the young order's callback only")
	after, err := s.Balances("m")
	require.NoError(t, err)
	assert.Equal(t, before, after, "retention never changes money")
	ledger, err := s.Ledger("m")
	require.NoError(t, err)
	assert.Equal(t, ReasonCarriedForward, ledger[0].Reason)
	assert.Less(t, len(ledger), 10)
}

// TestCompact gives back the space that retention freed, keeping every record.
func TestCompact(t *testing.T) {
	s := mustOpen(t)
	fillOrders(t, s, 2000)
	path := s.db.Path()
	require.NoError(t, s.Reset("m1", nil))
	page, err := s.ListOrders(OrderFilter{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	before, after, err := Compact(path)
	require.NoError(t, err)
	assert.Less(t, after, before)
	s2, err := Open(path)
	require.NoError(t, err)
	defer s2.Close()
	mustClean(t, s2)
	page2, err := s2.ListOrders(OrderFilter{})
	require.NoError(t, err)
	assert.Equal(t, page.Total, page2.Total)
	_, _, err = Compact(path)
	assert.ErrorIs(t, err, ErrInUse, "a file in use is not compacted")
}

// TestOpenPlainErrors: a directory, a missing directory and a file this user may not
// write each get a message of their own, never "damaged … restore a copy" (issue 21).
func TestOpenPlainErrors(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "readonly.db")
	s, err := Open(ro)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, os.Chmod(ro, 0o400))
	cases := []struct {
		name, path string
		is         error
		says       string
	}{
		{"directory", dir, ErrIsDir, "is a directory: --data names the file itself, e.g. " + filepath.Join(dir, "sandbox.db")},
		{"missing directory", filepath.Join(dir, "no", "such", "s.db"), fs.ErrNotExist, "its directory " + filepath.Join(dir, "no", "such") + " does not exist"},
		{"permission", ro, fs.ErrPermission, "permission denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.is == fs.ErrPermission && os.Geteuid() == 0 {
				t.Skip("root may write any file")
			}
			_, err := Open(c.path)
			require.ErrorIs(t, err, c.is)
			assert.NotErrorIs(t, err, ErrDamaged)
			assert.Contains(t, err.Error(), c.says)
			assert.NotContains(t, err.Error(), "restore")
		})
	}
	// As root, the wording of a refusal the kernel would give anyone else:
	err = plain(ro, &fs.PathError{Op: "open", Path: ro, Err: fs.ErrPermission})
	require.ErrorIs(t, err, fs.ErrPermission)
	assert.Contains(t, err.Error(), "state file "+ro+": permission denied")
	assert.Nil(t, plain(ro, ErrDamaged))
}
