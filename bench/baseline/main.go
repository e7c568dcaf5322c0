// Command baseline is the yardstick for bench/run.sh: a minimal Echo v4 server that
// parses the same multipart form as /merchant/generate_orders and answers a small
// JSON. With -mode=plain that is all it does (the HTTP ceiling of this machine); with
// -mode=update each request also writes one key in its own bbolt db.Update, so each
// request pays its own fsync (the naive durable design the sandbox's group committer
// is measured against).
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	bolt "go.etcd.io/bbolt"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (127.0.0.1 only in the benchmark)")
	mode := flag.String("mode", "plain", "plain: parse and answer; update: plus one bbolt db.Update per request")
	data := flag.String("data", "baseline.db", "bbolt file for -mode=update")
	flag.Parse()
	if err := run(*addr, *mode, *data); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

var bucket = []byte("orders")

func run(addr, mode, data string) error {
	db, err := openDB(mode, data)
	if err != nil {
		return err
	}
	if db != nil {
		defer db.Close()
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/merchant/generate_orders", generateOrders(db))
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]any{"status": "ok"}) })

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The script reads the chosen address from the first line of stdout.
	fmt.Println(ln.Addr().String())
	hs := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		<-ch
		_ = hs.Close()
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openDB opens the bbolt file for -mode=update; nil for -mode=plain.
func openDB(mode, data string) (*bolt.DB, error) {
	switch mode {
	case "plain":
		return nil, nil
	case "update":
		// Default options: bbolt fsyncs every commit, as the sandbox's store does.
		db, err := bolt.Open(data, 0o600, &bolt.Options{Timeout: 2 * time.Second})
		if err != nil {
			return nil, err
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(bucket)
			return err
		}); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	default:
		return nil, fmt.Errorf("-mode must be plain or update, not %q", mode)
	}
}

// generateOrders parses the form and, with a db, writes one key in its own Update.
func generateOrders(db *bolt.DB) echo.HandlerFunc {
	return func(c echo.Context) error {
		// Same parsing path as the sandbox's formValues: ParseMultipartForm, then PostForm.
		r := c.Request()
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return c.JSON(http.StatusOK, map[string]any{"status": false, "message": "Params missing."})
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		id := r.PostForm.Get("orderid")
		if id == "" || r.PostForm.Get("auth") == "" {
			return c.JSON(http.StatusOK, map[string]any{"status": false, "message": "Params missing."})
		}
		if db != nil {
			err := db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucket)
				if b.Get([]byte(id)) != nil {
					return errExists
				}
				return b.Put([]byte(id), []byte(r.PostForm.Get("amount")))
			})
			if errors.Is(err, errExists) {
				return c.JSON(http.StatusOK, map[string]any{"status": false, "message": "Order ID Exist."})
			}
			if err != nil {
				return err
			}
		}
		return c.JSON(http.StatusOK, map[string]any{"status": true, "p_url": "http://127.0.0.1/checkout/order-pay/1/?pay_for_order=true&key=x"})
	}
}

var errExists = errors.New("exists")
