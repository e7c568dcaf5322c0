// Command verify is a Vpay88 callback receiver in Go (standard library only): it
// answers "success" (HTTP 200) only when the token verifies, that is
// token == md5(secret key + order_id), lowercase hex.
//
//	PORT=8080 VPAY88_SECRET=vpay88-test-secret go run ./docs/verify/go
//
// Callbacks are delivered at least once: apply them idempotently.
package main

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
)

// Callback is the part of the callback body a receiver needs; json.Number keeps
// "amount": 100.0000 exact.
type Callback struct {
	OrderID     string      `json:"order_id"`
	Amount      json.Number `json:"amount"`
	Currency    string      `json:"currency"`
	OrderStatus string      `json:"order_status"`
	Charge      string      `json:"charge"`
	Token       string      `json:"token"`
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Remarks     string      `json:"remarks"`
}

// Verify reports whether the callback's token is md5(secret + order_id).
func Verify(cb Callback, secret string) bool {
	sum := md5.Sum([]byte(secret + cb.OrderID))
	want := hex.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cb.Token))) == 1
}

func main() {
	secret := os.Getenv("VPAY88_SECRET")
	if secret == "" {
		secret = "vpay88-test-secret"
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var cb Callback
		if err != nil || json.Unmarshal(raw, &cb) != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		if !Verify(cb, secret) {
			http.Error(w, "bad token", http.StatusForbidden)
			return
		}
		// ... update order cb.OrderID (cb.Type: deposit or withdrawal) to cb.OrderStatus ...
		_, _ = io.WriteString(w, "success")
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
