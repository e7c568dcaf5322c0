package store

import (
	"os"
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
	b.Run("SerialNoSync", benchSerialNoSync)
}

// benchSerialNoSync is one writer without fsync: the store's share of an --ephemeral
// generate_orders at one connection, where every commit holds one order.
func benchSerialNoSync(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "serial.db"), WithoutSync())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	before := txid(s.db)
	st0 := s.db.Stats().TxStats
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := s.CreateDeposit(benchOrder(uint64(i + 1))); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	report(b, start, txid(s.db)-before)
	st1 := s.db.Stats().TxStats
	b.ReportMetric(float64(st1.GetWrite()-st0.GetWrite())/float64(b.N), "pages/order")
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

// BenchmarkListOrders reads one admin page (50 orders, newest first) from a store of
// 1M orders over 3 merchants, both kinds and every status, with the dashboard's filters.
// Run with
//
//	go test ./store -run '^$' -bench ListOrders -benchtime 200x
//
// Building the file takes about a minute; VPAY88_BENCH_ORDERS changes its size.
func BenchmarkListOrders(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("VPAY88_BENCH_ORDERS")); err == nil && v > 0 {
		n = v
	}
	s, err := Open(filepath.Join(b.TempDir(), "list.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	statuses := []gateway.Status{gateway.StatusPending, gateway.StatusCompleted, gateway.StatusFail, gateway.StatusRejected}
	const perTx = 20_000
	for done := 0; done < n; done += perTx {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := done; i < done+perTx && i < n; i++ {
				kind := gateway.KindDeposit
				if i%5 == 0 {
					kind = gateway.KindWithdrawal
				}
				st := statuses[i%4]
				if kind == gateway.KindDeposit && st == gateway.StatusRejected {
					st = gateway.StatusFail
				}
				o := &gateway.Order{Kind: kind, Merchant: []string{"m1", "m2", "m3"}[i%3], OrderID: "ORD-" + strconv.Itoa(i),
					Amount: gateway.MustMoney("100"), Currency: "MYR", Status: st, CreatedAt: time.Now()}
				num, _ := tx.Bucket(bucketNumbers).NextSequence()
				o.Number = num
				if err := tx.Bucket(bucketOrders).Put(OrderKey(o.Kind, o.Merchant, o.OrderID), u64(num)); err != nil {
					return err
				}
				if err := indexOrder(tx, o, 1); err != nil {
					return err
				}
				if err := putOrder(tx, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	filters := map[string]OrderFilter{
		"all":                     {},
		"deposits":                {Kind: gateway.KindDeposit},
		"completed":               {Status: gateway.StatusCompleted},
		"merchant m2":             {Merchant: "m2"},
		"m3 rejected withdrawals": {Merchant: "m3", Kind: gateway.KindWithdrawal, Status: gateway.StatusRejected},
		"page 100 by cursor":      {Before: uint64(n - 5000)},
	}
	for name, f := range filters {
		b.Run(name, func(b *testing.B) {
			f.Limit = 50
			for i := 0; i < b.N; i++ {
				page, err := s.ListOrders(f)
				if err != nil || len(page.Orders) != 50 || page.Total == 0 {
					b.Fatalf("%v: %d orders, total %d", err, len(page.Orders), page.Total)
				}
			}
		})
	}
}
