package capture

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// fixedMerchants offers the same merchants for every capture.
type fixedMerchants []gateway.Merchant

func (f fixedMerchants) TokenCandidates(_ string, _ gateway.Kind, _ string, max int) ([]gateway.Merchant, int) {
	return f[:min(len(f), max)], len(f)
}

// TestReceive records a callback signed by the second merchant and one signed by
// none: each is stamped with the time given (the sandbox's clock), the token finding
// names the merchant or the merchants tried, and the list is newest first.
func TestReceive(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	l := New("", fixedMerchants{{Username: "alpha", SecretKey: "s1"}, {Username: "beta", SecretKey: "s2"}})
	post := func(token string) *Capture {
		body := `{"order_id":"A-1","token":"` + token + `"}`
		r := httptest.NewRequest("POST", "/sandbox/capture/team", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		cp, _, _, _ := l.Receive(context.Background(), r, "team", []byte(body), now)
		return cp
	}
	token := func(cp *Capture) Finding {
		for _, f := range cp.Findings {
			if f.Check == "token" {
				return f
			}
		}
		t.Fatalf("no token finding in %+v", cp.Findings)
		return Finding{}
	}

	signed := post(gateway.Token("s2", "A-1"))
	assert.Equal(t, now, signed.Time)
	assert.Equal(t, "beta", signed.Merchant)
	assert.True(t, token(signed).OK)
	assert.Nil(t, signed.Forward, "no forward without a URL")

	forged := post(strings.Repeat("0", 32))
	assert.Empty(t, forged.Merchant)
	assert.False(t, forged.OK)
	assert.Contains(t, token(forged).Detail, "matches no secret of the 2 merchants tried (tried alpha, beta)")

	items, total, size := l.List("team", 0, 10)
	require.Equal(t, 2, total)
	assert.Equal(t, []uint64{2, 1}, []uint64{items[0].ID, items[1].ID})
	assert.Positive(t, size)
}
