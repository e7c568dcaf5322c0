package server

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/brianvoe/gofakeit/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// TestEveryPageTemplateRenders runs every checkout template with every status and
// with every optional field set and empty: a template's error shows only when its
// branch runs.
func TestEveryPageTemplateRenders(t *testing.T) {
	full := &gateway.Order{
		Kind: gateway.KindDeposit, Merchant: "m", OrderID: "A-1 <x>", Number: 7, Key: "k&1",
		Currency: "MYR", Customer: "Ali", Email: "a@example.com", Phone: "0123", BankCode: "MBB",
		CustomerHolderName: "Ali Baba", PayerName: "Ali Baba", CreatedAt: time.Unix(0, 0),
	}
	statuses := []gateway.Status{gateway.StatusPending, gateway.StatusCompleted, gateway.StatusFail, gateway.StatusRejected}
	for _, tmpl := range pages().Templates() {
		name := tmpl.Name()
		if strings.HasSuffix(name, ".html") {
			continue // the file's own template: only definitions
		}
		for _, st := range statuses {
			for _, empty := range []bool{false, true} {
				o := *full
				o.Status = st
				if empty {
					o = gateway.Order{Kind: gateway.KindDeposit, Number: 7, Status: st}
				}
				d := pageData{
					Title: "Pay", Message: "Order not found", Order: &o, Amount: "49999.9999", Created: "2026-12-02 10:00:00",
					Settled: o.Settled(), MethodTitle: "Online banking", Options: []string{"Maybank", "CIMB"},
					ActionURL: "/a", ResultURL: "/r", PayURL: "/p", Outcome: outcomeWords[st], SettledLine: settledLines[st],
				}
				var b strings.Builder
				require.NoError(t, pages().ExecuteTemplate(&b, name, d), "template %q, status %s, empty %v", name, st, empty)
			}
		}
	}

	var b strings.Builder
	require.NoError(t, dashboardPage().ExecuteTemplate(&b, "dashboard", dashboardData{Version: "v1", TokenRequired: true, Vocab: vocabulary()}))
	assert.Contains(t, b.String(), "v1")
}

// payerName draws from gofakeit's lists without importing its generators; a seed must
// still give the names gofakeit.New(seed).Name() gave, so a --seed run repeats across
// the change.
func TestPayerNamesRepeatGofakeitsForASeed(t *testing.T) {
	for _, seed := range []int64{1, 42, -7, 1 << 40} {
		s := &Server{faker: rand.New(rand.NewSource(seed))}
		f := gofakeit.New(seed)
		for i := range 200 {
			require.Equal(t, f.Name(), s.payerName(), "seed %d, draw %d", seed, i)
		}
	}
}
