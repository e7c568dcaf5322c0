package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzVendorRequest sends arbitrary bodies and content types to every vendor endpoint:
// the answer is always the vendor's JSON shape with HTTP 200 (or 413 for a body over
// the cap), never a 5xx or a panic.
func FuzzVendorRequest(f *testing.F) {
	paths := []string{"/merchant/currency", "/merchant/auth", "/merchant/generate_orders", "/merchant/withdraw_orders",
		"/wallet/withdraw_bank_list", "/wallet/bank_list", "/merchant/check_status", "/merchant/check_withdraw_status"}
	f.Add(uint8(0), "application/x-www-form-urlencoded", "username=vpay88-test")
	f.Add(uint8(1), "application/x-www-form-urlencoded", "username=vpay88-test&api_key=EPSOWM0eewwrwer0OfUo")
	f.Add(uint8(2), "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n1e3\r\n--X--\r\n")
	f.Add(uint8(3), "application/json", `{"auth":"x"}`)
	f.Add(uint8(6), "multipart/form-data", "garbage")
	f.Add(uint8(7), "application/x-www-form-urlencoded", "username=%zz&id=%00")
	// Values past their limits, control characters and invalid UTF-8 (gateway/limits.go).
	f.Add(uint8(3), "application/x-www-form-urlencoded", "auth=x&amount=1&currency=MYR&bank_id=1&holder_name=a&account_no=1&orderid="+strings.Repeat("x", 40000))
	f.Add(uint8(6), "application/x-www-form-urlencoded", "username=vpay88-test&id="+strings.Repeat("%ff", 300))
	f.Add(uint8(1), "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nvpay88-test\t\x00\r\n--X--\r\n")
	e := MustOpenEnv(f)
	f.Fuzz(func(t *testing.T, which uint8, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, paths[int(which)%len(paths)], strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		e.Srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d for %q %q: %s", rec.Code, contentType, body, rec.Body)
		}
		var v struct {
			Status *bool `json:"status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.Status == nil {
			t.Fatalf("not the vendor's JSON: %q (%v)", rec.Body, err)
		}
	})
}
