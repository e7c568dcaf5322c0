package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckoutPagesCarryCSP: every checkout page (payment, result, not found, error)
// carries a strict Content-Security-Policy, no script and no inline style (issue 20),
// whose form-action also names the origin of the order's redirect_url, where the
// payment's POST is redirected; and the pages hold nothing the policy forbids.
func TestCheckoutPagesCarryCSP(t *testing.T) {
	e := MustOpenEnv(t)
	plain := e.Deposit(t, "CSP-1", nil)["p_url"].(string)
	shop := e.Deposit(t, "CSP-2", map[string]string{"redirect_url": "https://shop.example:8443/return?o=CSP-2"})["p_url"].(string)
	sneaky := e.Deposit(t, "CSP-3", map[string]string{"redirect_url": "javascript:alert(1)"})["p_url"].(string)
	path, key := checkoutKey(t, plain)
	const base = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'"
	for _, tc := range []struct {
		name, url, policy string
		code              int
	}{
		{"Payment", plain, base, http.StatusOK},
		{"PaymentWithRedirect", shop, base + " https://shop.example:8443", http.StatusOK},
		{"JavascriptRedirectNotNamed", sneaky, base, http.StatusOK},
		{"Result", e.URL + strings.Replace(path, "order-pay", "order-received", 1) + "?key=" + key, base, http.StatusOK},
		{"NotFound", e.URL + path + "?pay_for_order=true&key=wrong", base, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(tc.url)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.code, resp.StatusCode)
			assert.Equal(t, tc.policy, resp.Header.Get("Content-Security-Policy"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			page := strings.ToLower(string(b))
			for _, banned := range []string{"<script", "<style", " style=", "javascript:", " onclick=", " onload="} {
				assert.NotContains(t, page, banned, "the policy would block it")
			}
			assert.Contains(t, page, `<link rel="icon" href="/favicon.ico">`)
		})
	}
}

// TestFavicon: /favicon.ico is an icon, cached, and never a line in the journal
// (issue 21: each checkout view added a 404 there).
func TestFavicon(t *testing.T) {
	e := MustOpenEnv(t)
	// Control: an unknown path is journaled (it could be a vendor endpoint misspelt).
	resp, err := http.Get(e.URL + "/no-such-icon.png")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	for range 2 {
		resp, err := http.Get(e.URL + "/favicon.ico")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "image/x-icon", resp.Header.Get("Content-Type"))
		assert.Contains(t, resp.Header.Get("Cache-Control"), "max-age=86400")
		require.Greater(t, len(b), 22)
		assert.Equal(t, []byte{0, 0, 1, 0}, b[:4], "an ICO file")
	}
	var j struct {
		Total int `json:"total"`
	}
	getJSON(t, e.URL+"/sandbox/api/journal", &j)
	assert.Equal(t, 1, j.Total, "the favicon is not a vendor request; the control is")
}
