package store

import (
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// BenchmarkCreateDeposit measures CreateDeposit under parallel load, the write path of
// /merchant/generate_orders, against committing every order alone. Run with
//
//	go test ./store -run '^$' -bench CreateDeposit -benchtime 3s
//
// -cpu sets GOMAXPROCS; SetParallelism(8) gives 8 writers per P (16 on two CPUs, as the
// 16-connection wrk run). Sub-benchmarks:
//
//   - GroupCommit: the Store as shipped: concurrent writes share a transaction and fsync.
//   - OneCommitPerWrite: the same Store and the same transaction code, with batches
//     capped at one write, so each order pays its own commit and fsync.
//   - NaiveUpdate: no Store: each goroutine calls db.Update itself and puts the order's
//     JSON under its key, the naive durable design (bench/baseline -mode=update).
//
// Every sub-benchmark reports orders/s and the average batch size (writes per commit).
func BenchmarkCreateDeposit(b *testing.B) {
	b.Run("GroupCommit", func(b *testing.B) { benchStore(b, maxBatch) })
	b.Run("OneCommitPerWrite", func(b *testing.B) { benchStore(b, 1) })
	b.Run("NaiveUpdate", benchNaive)
}

func benchStore(b *testing.B, batch int) {
	// maxBatch is read only by the committer goroutine, which Open starts after this
	// write and Close stops before the restore.
	saved := maxBatch
	maxBatch = batch
	defer func() { maxBatch = saved }()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	before := txid(s.db)
	var seq atomic.Uint64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := benchOrder(seq.Add(1))
			if err := s.CreateDeposit(o); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	report(b, start, txid(s.db)-before)
}

func benchNaive(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "naive.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketOrders)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	before := txid(db)
	var seq atomic.Uint64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := benchOrder(seq.Add(1))
			if err := db.Update(func(tx *bolt.Tx) error {
				ob := tx.Bucket(bucketOrders)
				key := OrderKey(o.Kind, o.Merchant, o.OrderID)
				if ob.Get(key) != nil {
					return ErrOrderExists
				}
				return putJSON(ob, key, o)
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	report(b, start, txid(db)-before)
}

// benchOrder is a pending MYR deposit as generate_orders builds it.
func benchOrder(n uint64) *gateway.Order {
	return &gateway.Order{
		Kind: gateway.KindDeposit, Merchant: "vpay88-test", OrderID: "bench-" + strconv.FormatUint(n, 10),
		Key: "DjwdomQO4eIUCP91", Amount: 100 * gateway.Money(10000), Currency: "MYR", Status: gateway.StatusPending,
		Customer: "john", Email: "bench@example.com", Phone: "0123456789", CreatedAt: time.Now(),
	}
}

// txid is the id of the last committed write transaction: the difference over a run
// is the number of commits (and so of fsyncs) it made.
func txid(db *bolt.DB) int {
	id := 0
	_ = db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
	return id
}

// report adds orders/s and orders per commit (the average group-commit batch).
func report(b *testing.B, start time.Time, commits int) {
	if el := time.Since(start); el > 0 {
		b.ReportMetric(float64(b.N)/el.Seconds(), "orders/s")
	}
	if commits > 0 {
		b.ReportMetric(float64(b.N)/float64(commits), "orders/commit")
	}
}
