// Command load creates orders through POST /merchant/generate_orders until -n of them
// are in, or -timeout passes, with at most -c requests in flight. It counts an order
// as created only on HTTP 200 with "status":true, and prints one line for run.sh.
// bench/run.sh uses it to fill a fresh sandbox before reading its RSS.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// orderID is the part of the merchant order id after the prefix. bbolt keeps keys
// sorted, so the pattern decides how many pages each insert touches: padded ids always
// append to the last page, counter and random ids land all over the tree.
func orderID(kind string, i int64) string {
	switch kind {
	case "padded":
		return fmt.Sprintf("%010d", i)
	case "random":
		var b [8]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	default:
		return strconv.FormatInt(i, 10)
	}
}

// loadOpts are the command line.
type loadOpts struct {
	base, token, prefix, ids string
	n                        int64
	conc                     int
	timeout                  time.Duration
}

// counts are what the workers saw.
type counts struct {
	issued, created, refused, failed atomic.Int64
	firstErr                         atomic.Value
}

func main() {
	o := parseFlags()
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: o.conc, MaxConnsPerHost: o.conc}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	var c counts
	start := time.Now()
	var wg sync.WaitGroup
	for range o.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker(ctx, client, o, &c)
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("LOAD created=%d refused=%d failed=%d seconds=%.1f rps=%.0f\n", c.created.Load(), c.refused.Load(), c.failed.Load(),
		el.Seconds(), float64(c.created.Load())/el.Seconds())
	if e, ok := c.firstErr.Load().(string); ok {
		fmt.Fprintln(os.Stderr, "load: first error:", e)
	}
	if c.created.Load() < o.n {
		os.Exit(1)
	}
}

func parseFlags() loadOpts {
	var o loadOpts
	flag.StringVar(&o.base, "url", "http://127.0.0.1:8088", "sandbox base URL (127.0.0.1 only)")
	flag.StringVar(&o.token, "token", "", "auth token from /merchant/auth")
	flag.Int64Var(&o.n, "n", 100000, "orders to create")
	flag.IntVar(&o.conc, "c", 32, "requests in flight")
	flag.StringVar(&o.prefix, "prefix", "load", "orderid prefix; must be unique per data file")
	flag.StringVar(&o.ids, "ids", "counter", "orderid after the prefix: counter (1, 2, … 10, 11: inserts spread over the key space), "+
		"padded (0000000001…: every insert at the end) or random (16 hex digits)")
	flag.DurationVar(&o.timeout, "timeout", 120*time.Second, "stop after this long even if fewer orders are in")
	flag.Parse()
	switch o.ids {
	case "counter", "padded", "random":
	default:
		fmt.Fprintln(os.Stderr, "load: -ids must be counter, padded or random")
		os.Exit(2)
	}
	return o
}

// worker creates orders until n are issued or ctx ends.
func worker(ctx context.Context, client *http.Client, o loadOpts, c *counts) {
	var body bytes.Buffer
	for ctx.Err() == nil {
		// Hand out ids until n are issued; a refused order gets no retry, so
		// refusals show up in the count instead of hiding in a loop.
		i := c.issued.Add(1)
		if i > o.n {
			return
		}
		body.Reset()
		mw := multipart.NewWriter(&body)
		for _, f := range [][2]string{{"username", "john"}, {"auth", o.token}, {"amount", "100"}, {"currency", "MYR"},
			{"orderid", o.prefix + "-" + orderID(o.ids, i)}, {"email", "bench@example.com"}, {"phone_number", "0123456789"}} {
			_ = mw.WriteField(f[0], f[1])
		}
		_ = mw.Close()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.base+"/merchant/generate_orders", bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				c.failed.Add(1)
				c.firstErr.CompareAndSwap(nil, err.Error())
			}
			continue
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && bytes.Contains(data, []byte(`"status":true`)) {
			c.created.Add(1)
		} else {
			c.refused.Add(1)
			c.firstErr.CompareAndSwap(nil, fmt.Sprintf("HTTP %d %s", resp.StatusCode, data))
		}
	}
}
