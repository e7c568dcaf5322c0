package server_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkGenerateOrders is the server's own cost of one generate_orders, without the
// network or a load generator sharing the CPU: the request goes straight to the
// handler over the ephemeral store (what --ephemeral and sandboxtest run). bench/run.sh
// measures the same request over HTTP; this one is steady enough to compare two
// builds. Run with
//
//	go test ./server -run '^$' -bench GenerateOrders -benchtime 20000x
func BenchmarkGenerateOrders(b *testing.B) {
	e := MustOpenEnv(b)
	token := e.Auth(b)
	fields := [][2]string{{"username", "john"}, {"auth", token}, {"amount", "100"}, {"currency", "MYR"},
		{"email", "john@example.com"}, {"phone_number", "601012456789"}, {"bank_code", "MBB"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for _, f := range fields {
			_ = w.WriteField(f[0], f[1])
		}
		_ = w.WriteField("orderid", "bench-"+strconv.Itoa(i))
		_ = w.Close()
		req := httptest.NewRequest(http.MethodPost, "/merchant/generate_orders", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.RemoteAddr = "127.0.0.1:40000"
		rec := httptest.NewRecorder()
		e.Srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"status":true`)) {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
}
