// Command growth measures how big a state file gets per 100k orders, and what
// retention and compaction give back. Each order is what a typical vendor request
// leaves: a deposit (or every fifth a withdrawal) created, settled, its callback
// delivered with one attempt recorded. Run with
//
//	go run ./bench/growth -n 100000
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

func main() {
	n := flag.Int("n", 100_000, "orders to create")
	workers := flag.Int("workers", 16, "concurrent writers (group commit shares their fsyncs)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "vpay88-growth")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "growth.db")
	s, err := store.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.EnsureBalances([]store.Balance{{Merchant: "vpay88-test", Currency: "MYR", Available: gateway.MustMoney("100000000")}}); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	fill(s, *n, *workers)
	took := time.Since(start)
	full := size(path)
	pruned := pruneAll(s)
	afterPrune := size(path)
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}
	_, compacted, err := store.Compact(path)
	if err != nil {
		log.Fatal(err)
	}
	per := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)*100_000/float64(*n)/1e6) }
	fmt.Printf("orders created, settled, called back: %d in %s\n", *n, took.Round(time.Millisecond))
	fmt.Printf("| state | file size | per 100k orders |\n|---|---|---|\n")
	fmt.Printf("| no retention | %d B | %s |\n", full, per(full))
	fmt.Printf("| retention deleted all %d (file not shrunk: bbolt reuses the pages) | %d B | %s |\n", pruned, afterPrune, per(afterPrune))
	fmt.Printf("| after `compact` | %d B | — |\n", compacted)
}

// fill creates n orders on the given number of concurrent writers.
func fill(s *store.Store, n, workers int) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := oneOrder(s, i); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// pruneAll runs retention with a cutoff an hour ahead, so that every order goes, and
// returns how many it deleted.
func pruneAll(s *store.Store) int {
	res := store.PruneResult{More: true}
	pruned := 0
	for res.More {
		var err error
		if res, err = s.Prune(time.Now().Add(time.Hour), 500); err != nil {
			log.Fatal(err)
		}
		pruned += res.Orders
	}
	return pruned
}

func oneOrder(s *store.Store, i int) error {
	id := "ORD-" + strconv.Itoa(i)
	o := &gateway.Order{Kind: gateway.KindDeposit, Merchant: "vpay88-test", OrderID: id, Key: "k3yk3yk3yk3yk3yk",
		Amount: gateway.MustMoney("100"), Currency: "MYR", Status: gateway.StatusPending, Customer: "john",
		Email: "john@example.com", Phone: "601012456789", CreatedAt: time.Now()}
	var err error
	if i%5 == 0 {
		o.Kind, o.HolderName, o.AccountNo, o.BankID, o.BankName = gateway.KindWithdrawal, "JOHN DOE", "12332343432", "1", "Maybank"
		o.Customer, o.Email, o.Phone, o.Key, o.Reserved = "", "", "", "", o.Amount+gateway.MustMoney("5")
		err = s.CreateWithdrawal(o)
	} else {
		err = s.CreateDeposit(o)
	}
	if err != nil {
		return err
	}
	_, dels, err := s.Settle(o.Kind, o.Merchant, id, func(o *gateway.Order) ([]*store.Delivery, error) {
		o.Status, o.Charge, o.PayerName = gateway.StatusCompleted, gateway.MustMoney("3"), "John Doe"
		return []*store.Delivery{{Merchant: o.Merchant, Kind: o.Kind, OrderID: id, URL: "http://127.0.0.1:9/callback",
			Body: gateway.CallbackBody(o, "secret"), NextAt: time.Now()}}, nil
	})
	if err != nil {
		return err
	}
	d := *dels[0]
	d.State, d.Attempts = store.DeliveryDelivered, 1
	return s.RecordAttempt(&d, store.Attempt{DeliveryID: d.ID, N: 1, Time: time.Now(), URL: d.URL, Body: d.Body, Status: 200, Answer: "success"})
}

func size(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	return st.Size()
}
