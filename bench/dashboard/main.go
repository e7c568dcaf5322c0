// Command dashboard stands in for an open dashboard tab while a load test runs: it
// follows /sandbox/api/events and, as dashboard.js does, refreshes the orders view on
// every change notice — debounced by 150 ms, one fetch at a time, and never sooner
// after a fetch than that fetch took — until -for has passed. It prints how many
// fetches it made and their mean latency. bench/dashboard.sh runs the load with and
// without it to measure what an open dashboard costs the vendor API.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

const debounce = 150 * time.Millisecond

func main() {
	base := flag.String("url", "http://127.0.0.1:8088", "sandbox base URL (127.0.0.1 only)")
	dur := flag.Duration("for", 20*time.Second, "how long to stay open")
	view := flag.String("view", "/sandbox/api/orders?limit=50", "the list the open tab shows")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, *base+"/sandbox/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	notices := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data:") {
				select {
				case notices <- struct{}{}:
				default:
				}
			}
		}
	}()
	fetches, total := 0, time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			mean := time.Duration(0)
			if fetches > 0 {
				mean = total / time.Duration(fetches)
			}
			fmt.Printf("dashboard: %d fetches of %s, mean %s\n", fetches, *view, mean.Round(time.Microsecond))
			return
		case <-notices:
		}
		time.Sleep(debounce) // the page's debounce: a burst of notices is one fetch
		start := time.Now()
		r, err := http.Get(*base + *view)
		if err == nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
			fetches++
		}
		took := time.Since(start)
		total += took
		time.Sleep(took) // never sooner after a fetch than it took
	}
}
