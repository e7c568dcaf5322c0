package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// trialMerchants holds run-time merchants to issue 18's findings 6 and 11: a merchant
// named like another team's customer must not hide that customer's orders; hostile
// merchant fields get a 400, never a 500 or a merchant; the dashboard's merchant list
// is read a page at a time, whatever the number of merchants.
func trialMerchants(ctx context.Context, t *T) []Row {
	sb, err := Start(ctx, t.Env, Opts{Data: filepath.Join(t.Env.Tmp, "merchants.db")})
	if err != nil {
		return startFailed(err)
	}
	defer sb.Stop()
	tok, err := auth(ctx, sb.URL, defaultMerchant)
	if err != nil {
		return startFailed(err)
	}

	// Finding 6: customer mary's order, then a merchant called mary.
	code, b, err := post(ctx, sb.URL+"/merchant/generate_orders", url.Values{"username": {"mary"}, "auth": {tok},
		"amount": {"100"}, "currency": {"MYR"}, "orderid": {"MARY-1"}, "email": {"mary@example.com"}, "phone_number": {"0123456789"}})
	made := okAnswer(code, b, err)
	code, b, err = postBody(ctx, sb.URL+"/sandbox/api/merchants", "application/json", `{"username":"mary"}`)
	madeMerchant := err == nil && code == http.StatusCreated
	found, _, err := status(ctx, sb.URL, "mary", "deposit", "MARY-1")
	t.Logf("customer mary's deposit %v, merchant mary made %v (HTTP %d %.120s), check_status(mary, MARY-1) found %v (%v)", made, madeMerchant, code, b, found, err)

	// Finding 11: hostile fields.
	hostile := map[string]string{
		"40,000-character username": `{"username":"` + strings.Repeat("u", 40000) + `"}`,
		"control character":         `{"username":"a\u0007b"}`,
		"100 KB api_key":            `{"api_key":"` + strings.Repeat("k", 100<<10) + `"}`,
		"100 KB callback URL":       `{"callback_url":"http://x/` + strings.Repeat("c", 100<<10) + `"}`,
		"negative start_balance":    `{"currencies":[{"code":"MYR","start_balance":-1}]}`,
		"unknown dialect switch":    `{"dialect":{"nope":"on"}}`,
	}
	var fives, accepted, refused int
	for name, body := range hostile {
		code, _, err := postBody(ctx, sb.URL+"/sandbox/api/merchants", "application/json", body)
		switch {
		case err != nil || code >= 500:
			fives++
			t.Logf("%s: HTTP %d %v", name, code, err)
		case code == http.StatusCreated:
			accepted++
			t.Logf("%s: accepted", name)
		case code == http.StatusBadRequest:
			refused++
		}
	}
	code, _, err = postBody(ctx, sb.URL+"/sandbox/api/merchants", "application/x-www-form-urlencoded", "username=bad%FF")
	if err != nil || code >= 500 {
		fives++
	} else if code == http.StatusBadRequest {
		refused++
	}

	// The merchant list with many merchants: a page against the whole list.
	n := 2000
	if t.Env.Quick {
		n = 500
	}
	var failed atomic.Int64
	t0 := time.Now()
	parallel(ctx, n, 8, func(i int) {
		code, _, err := postBody(ctx, sb.URL+"/sandbox/api/merchants", "application/json", fmt.Sprintf(`{"username":"chaos-%05d"}`, i))
		if err != nil || code != http.StatusCreated {
			failed.Add(1)
		}
	})
	el := time.Since(t0)
	_, page, _ := get(ctx, sb.URL+"/sandbox/api/merchants?offset=0&limit=50")
	_, names, _ := get(ctx, sb.URL+"/sandbox/api/merchants?names=1")
	_, whole, _ := get(ctx, sb.URL+"/sandbox/api/merchants")
	t.Logf("%d merchants made in %.1f s (%d failed); a page %d bytes, the names %d bytes, the whole list %d bytes",
		n, el.Seconds(), failed.Load(), len(page), len(names), len(whole))
	return []Row{
		{Measured: "check_status(mary, MARY-1) after a merchant named mary was made", Figure: map[bool]string{true: "found", false: "hidden"}[found],
			Goal: "found", Result: pass(made && madeMerchant && found)},
		{Measured: fmt.Sprintf("%d hostile run-time merchants", len(hostile)+1), Figure: fmt.Sprintf("%d refused 400, %d made, %d 5xx", refused, accepted, fives),
			Goal: "all 400", Result: pass(refused == len(hostile)+1 && accepted == 0 && fives == 0)},
		{Measured: fmt.Sprintf("dashboard's merchant page with %d merchants", n+2), Figure: fmt.Sprintf("%d bytes (names %d, whole list %d)", len(page), len(names), len(whole)),
			Goal: "< 64 KB", Result: pass(len(page) > 0 && len(page) < 64<<10 && failed.Load() == 0)},
	}
}

// postBody posts a body of a content type.
func postBody(ctx context.Context, u, ctype, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", ctype)
	return do(req)
}
