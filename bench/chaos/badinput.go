package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// hostile is one request meant to hurt.
type hostile struct {
	name   string
	method string
	path   string // raw, already escaped as it goes on the wire
	ctype  string
	body   func() io.Reader
	size   int64 // Content-Length, -1 for chunked
	hdr    map[string]string
	host   string
	raw    bool // written by hand on a TCP connection (what net/http would refuse to send)
}

func formBody(f url.Values) (func() io.Reader, string, int64) {
	b := []byte(f.Encode())
	return func() io.Reader { return bytes.NewReader(b) }, "application/x-www-form-urlencoded", int64(len(b))
}

func multipartBody(fields [][2]string) (func() io.Reader, string, int64) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		_ = mw.WriteField(f[0], f[1])
	}
	_ = mw.Close()
	b := buf.Bytes()
	return func() io.Reader { return bytes.NewReader(b) }, mw.FormDataContentType(), int64(len(b))
}

func rawBody(s string) (func() io.Reader, int64) {
	return func() io.Reader { return strings.NewReader(s) }, int64(len(s))
}

// zeros is an endless-looking body of n bytes, not held in memory.
type repeatReader struct {
	n   int64
	pat []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.pat[r.off]
		r.off = (r.off + 1) % len(r.pat)
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// hostileRequests is the list of hostile requests: a data table, grouped by what
// each group attacks.
func hostileRequests(token string) []hostile {
	l := &hostileList{token: token}
	l.formValues()
	l.bodies()
	l.routes()
	l.headers()
	return l.hs
}

// hostileList collects hostile requests; token authenticates the ones that need it.
type hostileList struct {
	hs    []hostile
	token string
}

func (l *hostileList) add(name, method, path string, body func() io.Reader, ctype string, size int64) *hostile {
	l.hs = append(l.hs, hostile{name: name, method: method, path: path, body: body, ctype: ctype, size: size})
	return &l.hs[len(l.hs)-1]
}

func (l *hostileList) form(name, path string, f url.Values) {
	b, ct, n := formBody(f)
	l.add(name, "POST", path, b, ct, n)
}

func (l *hostileList) mpart(name, path string, f url.Values) {
	var fs [][2]string
	for k, vs := range f {
		for _, v := range vs {
			fs = append(fs, [2]string{k, v})
		}
	}
	b, ct, n := multipartBody(fs)
	l.add(name, "POST", path, b, ct, n)
}

// dep is a valid deposit request with some fields replaced.
func (l *hostileList) dep(over map[string]string) url.Values {
	f := url.Values{"username": {"john"}, "auth": {l.token}, "amount": {"100"}, "currency": {"MYR"},
		"orderid": {"H-" + fmt.Sprint(time.Now().UnixNano())}, "email": {"h@example.com"}, "phone_number": {"0123456789"}}
	for k, v := range over {
		f.Set(k, v)
	}
	return f
}

// wd is a valid withdrawal request with some fields replaced.
func (l *hostileList) wd(over map[string]string) url.Values {
	f := url.Values{"auth": {l.token}, "amount": {"10"}, "currency": {"MYR"}, "orderid": {"HW-" + fmt.Sprint(time.Now().UnixNano())},
		"bank_id": {"1"}, "holder_name": {"Hostile Test"}, "account_no": {"4000000001"}}
	for k, v := range over {
		f.Set(k, v)
	}
	return f
}

// formValues: well-formed forms with hostile values.
func (l *hostileList) formValues() {
	long := strings.Repeat("L", 40000)
	mega := strings.Repeat("M", 1000000)
	badUTF8 := "bad\xff\xfe\xc3\x28utf8"
	ctrl := "ctl\x01\x02\x1b[31m\r\n\t\x7fend"
	nul := "nul\x00id\x00"

	// Long and odd order ids, both kinds, urlencoded and multipart.
	l.form("withdraw_orders orderid 40,000 chars", "/merchant/withdraw_orders", l.wd(map[string]string{"orderid": long}))
	l.mpart("withdraw_orders orderid 40,000 chars (multipart)", "/merchant/withdraw_orders", l.wd(map[string]string{"orderid": long + "m"}))
	l.form("generate_orders orderid 40,000 chars", "/merchant/generate_orders", l.dep(map[string]string{"orderid": long}))
	l.mpart("generate_orders orderid 40,000 chars (multipart)", "/merchant/generate_orders", l.dep(map[string]string{"orderid": long + "m"}))
	l.form("check_status id 40,000 chars", "/merchant/check_status", url.Values{"username": {"vpay88-test"}, "id": {long}})
	l.form("check_withdraw_status id 40,000 chars", "/merchant/check_withdraw_status", url.Values{"username": {"vpay88-test"}, "id": {long}})
	// 1 MB values (under the 1 MiB body cap).
	l.form("generate_orders username 1 MB", "/merchant/generate_orders", l.dep(map[string]string{"username": mega}))
	l.form("generate_orders email 1 MB", "/merchant/generate_orders", l.dep(map[string]string{"email": mega[:999000] + "@x.com"}))
	l.mpart("withdraw_orders holder_name 1 MB (multipart)", "/merchant/withdraw_orders", l.wd(map[string]string{"holder_name": mega}))
	l.form("auth username 1 MB", "/merchant/auth", url.Values{"username": {mega}, "api_key": {"x"}})
	l.form("generate_orders redirect_url 1 MB", "/merchant/generate_orders", l.dep(map[string]string{"redirect_url": "https://x/" + mega[:999000]}))
	// Encoding.
	l.form("generate_orders invalid UTF-8 orderid", "/merchant/generate_orders", l.dep(map[string]string{"orderid": badUTF8}))
	l.form("withdraw_orders invalid UTF-8 holder_name", "/merchant/withdraw_orders", l.wd(map[string]string{"holder_name": badUTF8}))
	l.form("generate_orders control characters in orderid, email", "/merchant/generate_orders", l.dep(map[string]string{"orderid": ctrl, "email": ctrl + "@x.com"}))
	l.form("generate_orders NUL bytes in orderid", "/merchant/generate_orders", l.dep(map[string]string{"orderid": nul}))
	l.form("withdraw_orders NUL bytes in orderid, account_no", "/merchant/withdraw_orders", l.wd(map[string]string{"orderid": nul + "w", "account_no": "\x00"}))
	l.form("check_status NUL id", "/merchant/check_status", url.Values{"username": {"vpay88-test"}, "id": {"\x00"}})
	for _, amt := range []string{"1e400", "NaN", "-0", "0x10", "１００", "99999999999999999999999.9999", "100.00001", " 100"} {
		l.form("generate_orders amount "+fmt.Sprintf("%q", amt), "/merchant/generate_orders", l.dep(map[string]string{"amount": amt}))
	}
	l.form("withdraw_orders amount 1e30", "/merchant/withdraw_orders", l.wd(map[string]string{"amount": "1000000000000000000000000000000"}))
	l.form("generate_orders redirect_url javascript:", "/merchant/generate_orders", l.dep(map[string]string{"redirect_url": "javascript:alert(1)"}))
}

// bodies: hostile bodies (many parts, broken multipart, JSON, YAML, 20 MB).
func (l *hostileList) bodies() {
	// Many parts and fields.
	{
		var fs [][2]string
		for i := 0; i < 10000; i++ {
			fs = append(fs, [2]string{fmt.Sprintf("f%d", i), "v"})
		}
		b, ct, n := multipartBody(fs)
		l.add("generate_orders 10,000 multipart parts", "POST", "/merchant/generate_orders", b, ct, n)
		var sb strings.Builder
		for i := 0; i < 200000; i++ {
			sb.WriteString("a=&")
		}
		rb, rn := rawBody(sb.String())
		l.add("check_status 200,000 urlencoded fields", "POST", "/merchant/check_status", rb, "application/x-www-form-urlencoded", rn)
		var same [][2]string
		for i := 0; i < 5000; i++ {
			same = append(same, [2]string{"orderid", fmt.Sprintf("dup%d", i)})
		}
		b, ct, n = multipartBody(same)
		l.add("generate_orders orderid repeated 5,000 times", "POST", "/merchant/generate_orders", b, ct, n)
	}
	// Broken multipart.
	rb, rn := rawBody("--XYZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\njohn\r\n--XYZ\r\nContent-Disp")
	l.add("generate_orders truncated multipart", "POST", "/merchant/generate_orders", rb, "multipart/form-data; boundary=XYZ", rn)
	rb, rn = rawBody("garbage with no boundary at all")
	l.add("generate_orders multipart without boundary", "POST", "/merchant/generate_orders", rb, "multipart/form-data", rn)
	rb, rn = rawBody("--" + strings.Repeat("B", 5000) + "\r\n\r\n")
	l.add("withdraw_orders multipart 5,000-char boundary", "POST", "/merchant/withdraw_orders", rb, "multipart/form-data; boundary="+strings.Repeat("B", 5000), rn)
	rb, rn = rawBody("--XYZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../etc/passwd\"\r\nContent-Type: application/octet-stream\r\n\r\n" + strings.Repeat("F", 500000) + "\r\n--XYZ--\r\n")
	l.add("generate_orders multipart file upload 500 KB", "POST", "/merchant/generate_orders", rb, "multipart/form-data; boundary=XYZ", rn)
	rb, rn = rawBody("%zz%%%=&&==%")
	l.add("auth broken urlencoding", "POST", "/merchant/auth", rb, "application/x-www-form-urlencoded", rn)
	rb, rn = rawBody("username=vpay88-test")
	l.add("auth unknown charset", "POST", "/merchant/auth", rb, "application/x-www-form-urlencoded; charset=evil-7", rn)
	rb, rn = rawBody("x")
	l.add("auth malformed Content-Type", "POST", "/merchant/auth", rb, "multipart/form-data; boundary=\"unterminated", rn)
	// JSON bodies.
	rb, rn = rawBody(`{"username":"vpay88-test","api_key":"EPSOWM0eewwrwer0OfUo"}`)
	l.add("auth JSON body", "POST", "/merchant/auth", rb, "application/json", rn)
	rb, rn = rawBody(strings.Repeat("[", 100000) + strings.Repeat("]", 100000))
	l.add("generate_orders deeply nested JSON", "POST", "/merchant/generate_orders", rb, "application/json", rn)
	// 30,000 levels: each parse costs seconds of CPU on today's code (100,000 took 52 s).
	rb, rn = rawBody(strings.Repeat("[", 30000))
	l.add("PUT /sandbox/api/scenarios YAML nested 30,000 deep", "PUT", "/sandbox/api/scenarios", rb, "application/yaml", rn)
	rb, rn = rawBody("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n")
	l.add("PUT /sandbox/api/scenarios YAML alias bomb", "PUT", "/sandbox/api/scenarios", rb, "application/yaml", rn)
	rb, rn = rawBody("- name: x\n  match: {orderid: '(((((((((('}\n  effect: {outcome: completed}\n")
	l.add("PUT /sandbox/api/scenarios bad regexp", "PUT", "/sandbox/api/scenarios", rb, "application/yaml", rn)
	// 20 MB bodies, with and without Content-Length.
	big := func() io.Reader { return &repeatReader{n: 20 << 20, pat: []byte("a=b&")} }
	l.add("generate_orders 20 MB body", "POST", "/merchant/generate_orders", big, "application/x-www-form-urlencoded", 20<<20).raw = true
	l.add("generate_orders 20 MB body, chunked", "POST", "/merchant/generate_orders", big, "application/x-www-form-urlencoded", -1)
	l.add("withdraw_orders 20 MB multipart, chunked", "POST", "/merchant/withdraw_orders", func() io.Reader {
		return io.MultiReader(strings.NewReader("--XYZ\r\nContent-Disposition: form-data; name=\"holder_name\"\r\n\r\n"), &repeatReader{n: 20 << 20, pat: []byte("H")})
	}, "multipart/form-data; boundary=XYZ", -1)
	l.add("PUT /sandbox/api/scenarios 20 MB", "PUT", "/sandbox/api/scenarios", big, "application/yaml", 20<<20).raw = true
	l.add("settle 20 MB form", "POST", "/sandbox/api/deposits/x/settle", big, "application/x-www-form-urlencoded", 20<<20).raw = true
}

// routes: unknown paths, wrong methods, odd ids and queries.
func (l *hostileList) routes() {
	// Unknown paths and wrong methods.
	for _, p := range []string{"/merchant/nope", "/merchant/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/merchant/auth/extra", "/" + strings.Repeat("p", 8000),
		"/sandbox/api/nope", "/sandbox/static/../../main.go", "/checkout/static/%2e%2e/%2e%2e/go.mod", "/merchant//auth", "/sandbox/api/orders/%ff"} {
		l.add("GET "+trunc(p, 40), "GET", p, nil, "", 0)
	}
	for _, mp := range [][2]string{{"GET", "/merchant/auth"}, {"PUT", "/merchant/generate_orders"}, {"DELETE", "/merchant/withdraw_orders"},
		{"DELETE", "/sandbox/api/orders"}, {"PATCH", "/sandbox/api/balances"}, {"GET", "/sandbox/api/reset"}, {"OPTIONS", "/sandbox/api/reset"},
		{"TRACE", "/"}, {"BREW", "/healthz"}, {"POST", "/healthz"}, {"PUT", "/metrics"}} {
		l.add(mp[0]+" "+mp[1], mp[0], mp[1], nil, "", 0)
	}
	// Odd ids and queries on the admin API.
	for _, id := range []string{"a%2Fb", "%25", "%3F", "%23", "%00", "%ff%fe", "..", "%2e%2e", "a%20b", "%0d%0aSet-Cookie:x=y", strings.Repeat("i", 40000)} {
		l.add("GET /sandbox/api/deposits/"+trunc(id, 20), "GET", "/sandbox/api/deposits/"+id, nil, "", 0)
		b, ct, n := formBody(url.Values{"outcome": {"completed"}})
		l.add("POST /sandbox/api/withdrawals/"+trunc(id, 20)+"/settle", "POST", "/sandbox/api/withdrawals/"+id+"/settle", b, ct, n)
		l.add("POST /sandbox/api/deposits/"+trunc(id, 20)+"/callback", "POST", "/sandbox/api/deposits/"+id+"/callback", nil, "", 0)
	}
	for _, q := range []string{"orders?limit=-1", "orders?limit=99999999999999999999999", "orders?offset=-5", "orders?offset=99999999999999",
		"orders?prefix=%00%ff", "orders?kind=%27%22", "journal?q=%ff%fe", "journal?limit=500&q=" + strings.Repeat("q", 30000), "ledger?currency=%00",
		"callbacks?state=%ff", "balances?merchant=%00", "deposits/x?merchant=" + strings.Repeat("m", 20000), "orders?limit=1&limit=2&limit=abc"} {
		l.add("GET /sandbox/api/"+trunc(q, 40), "GET", "/sandbox/api/"+q, nil, "", 0)
	}
	for _, av := range []string{"99999999999999999999", "-1", "1e9", "%ff", "1.00001"} {
		b, ct, n := formBody(url.Values{"available": {av}})
		l.add("PUT balance available="+av, "PUT", "/sandbox/api/balances/vpay88-test/MYR", b, ct, n)
	}
	b, ct, n := formBody(url.Values{"available": {"5"}})
	l.add("PUT balance of an unknown merchant %ff", "PUT", "/sandbox/api/balances/%ff/MYR", b, ct, n)
	// Checkout page.
	for _, p := range []string{"/checkout/order-pay/99999999999999999999999/?pay_for_order=true&key=x", "/checkout/order-pay/-1/?key=%00",
		"/checkout/order-pay/1/?key=" + strings.Repeat("k", 20000), "/checkout/order-received/0/?key=%ff"} {
		l.add("GET "+trunc(p, 40), "GET", p, nil, "", 0)
	}
	b, ct, n = formBody(url.Values{"action": {"pay\x00"}, "key": {"%ff"}})
	l.add("POST checkout garbage", "POST", "/checkout/order-pay/1/?key=x", b, ct, n)
}

// headers: hostile headers and Host.
func (l *hostileList) headers() {
	// Headers.
	h := l.add("GET /sandbox/ with a 500 KB cookie", "GET", "/sandbox/", nil, "", 0)
	h.hdr = map[string]string{"Cookie": "c=" + strings.Repeat("c", 500000)}
	h = l.add("GET /sandbox/api/orders with X-Request-Id 50 KB", "GET", "/sandbox/api/orders?limit=1", nil, "", 0)
	h.hdr = map[string]string{"X-Request-Id": strings.Repeat("r", 50000)}
	h = l.add("check_status with X-Request-Id of control chars", "POST", "/merchant/check_status", nil, "", 0)
	h.hdr = map[string]string{"X-Request-Id": "id\x01\x7f\xff"}
	h.raw = true
	h = l.add("GET /sandbox/ with Host: evil.example", "GET", "/sandbox/", nil, "", 0)
	h.host = "evil.example"
	fb, fct, fn := formBody(l.dep(nil))
	h = l.add("generate_orders with Host: evil.example", "POST", "/merchant/generate_orders", fb, fct, fn)
	h.host = "evil.example"
	h = l.add("GET /sandbox/api/events with Host: evil.example", "GET", "/sandbox/api/orders?limit=1", nil, "", 0)
	h.host = "evil.example"
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// sendTimeout bounds every hostile request.
const sendTimeout = 10 * time.Second

// sendRaw writes the request by hand and reads the answer even when the server stops
// reading the body early (a 413 before 20 MB are sent).
func sendRaw(ctx context.Context, base string, h hostile) (int, error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, err
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(sendTimeout))
	host := u.Host
	if h.host != "" {
		host = h.host
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", h.method, h.path, host)
	if h.ctype != "" {
		fmt.Fprintf(&head, "Content-Type: %s\r\n", h.ctype)
	}
	fmt.Fprintf(&head, "Content-Length: %d\r\n", max(h.size, 0))
	for k, v := range h.hdr {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	head.WriteString("\r\n")
	go func() {
		if _, err := io.WriteString(conn, head.String()); err != nil {
			return
		}
		if h.body != nil {
			io.Copy(conn, h.body())
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// send sends one hostile request on a fresh connection.
func send(ctx context.Context, base string, h hostile) (int, error) {
	if h.raw {
		return sendRaw(ctx, base, h)
	}
	var body io.Reader
	if h.body != nil {
		body = h.body()
	}
	req, err := http.NewRequestWithContext(ctx, h.method, base+"/", body)
	if err != nil {
		return 0, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return 0, err
	}
	// The path goes on the wire exactly as written (Opaque is not escaped again).
	req.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Opaque: "//" + u.Host + pathOnly(h.path), RawQuery: queryOnly(h.path)}
	if h.body != nil {
		req.ContentLength = h.size
		if h.size < 0 {
			req.ContentLength = -1
		}
	}
	if h.ctype != "" {
		req.Header.Set("Content-Type", h.ctype)
	}
	for k, v := range h.hdr {
		req.Header[k] = []string{v}
	}
	if h.host != "" {
		req.Host = h.host
	}
	c := &http.Client{Timeout: sendTimeout, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

func queryOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[i+1:]
	}
	return ""
}

// trialBadInput sends the hostile list, then a cross-site POST to /sandbox/api/reset.
func trialBadInput(ctx context.Context, t *T) []Row {
	data := filepath.Join(t.Env.Tmp, "badinput.db")
	sb, token, rows := startAuthed(ctx, t.Env, Opts{Data: data})
	if rows != nil {
		return rows
	}
	defer func() { sb.Stop() }()
	// One order that must survive everything but the reset.
	if ok, _ := deposit(ctx, sb.URL, token, "KEEP-1", "pending@example.com"); !ok {
		t.Logf("could not create the witness order KEEP-1")
	}
	hs := hostileRequests(token)
	b := &barrage{data: data}
	if !b.sendAll(ctx, t, &sb, hs) {
		return []Row{{Measured: "server crashes", Figure: fmt.Sprintf("%d, then the restart failed", b.crashes), Goal: "0", Result: "FAIL"}}
	}
	b.logLists(t)
	// The witness order survived the lot (nothing above may delete or alter it).
	witness, _, _ := status(ctx, sb.URL, defaultMerchant.User, "deposit", "KEEP-1")
	resetFig := crossSiteReset(ctx, sb.URL, witness)
	alive := sb.Alive() && healthy(ctx, sb.URL)
	if !alive {
		b.crashes++
	}
	t.Logf("%d requests sent; witness order kept through them: %v", len(hs), witness)
	return []Row{
		{Measured: fmt.Sprintf("5xx answers to %d hostile requests", len(hs)), Figure: fmt.Sprint(b.fives), Goal: "0", Result: pass(b.fives == 0)},
		{Measured: "connection errors (no HTTP answer)", Figure: fmt.Sprint(b.connErrs), Goal: "-", Result: "info"},
		{Measured: fmt.Sprintf("requests without an answer within %s", sendTimeout), Figure: fmt.Sprint(b.timeouts), Goal: "0", Result: pass(b.timeouts == 0)},
		{Measured: "slowest answer (one request must not hold a CPU)", Figure: fmt.Sprintf("%.2f s (%s)", b.slowest.Seconds(), trunc(b.slowName, 45)), Goal: "<= 1 s", Result: pass(b.slowest <= time.Second)},
		{Measured: "server crashes; alive at the end", Figure: fmt.Sprintf("%d; alive %v", b.crashes, alive), Goal: "0; alive", Result: pass(b.crashes == 0 && alive)},
		{Measured: "cross-site Origin POST /sandbox/api/reset", Figure: resetFig, Goal: "-", Result: "info"},
	}
}

// barrage is what the hostile requests did.
type barrage struct {
	data                               string // the data file, for restarts
	fives, connErrs, crashes, timeouts int
	fiveList, errList, timeoutList     []string
	slowest                            time.Duration
	slowName                           string
}

// sendAll sends each request and restarts the sandbox (*sb) when one brought it
// down; false when a restart failed.
func (b *barrage) sendAll(ctx context.Context, t *T, sb **Sandbox, hs []hostile) bool {
	for _, h := range hs {
		if ctx.Err() != nil {
			break
		}
		t0 := time.Now()
		code, err := send(ctx, (*sb).URL, h)
		if el := time.Since(t0); el > b.slowest {
			b.slowest, b.slowName = el, h.name
		}
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout():
			b.timeouts++
			b.timeoutList = append(b.timeoutList, h.name)
		case err != nil:
			b.connErrs++
			b.errList = append(b.errList, fmt.Sprintf("%s: %v", h.name, trunc(err.Error(), 120)))
		case code >= 500:
			b.fives++
			b.fiveList = append(b.fiveList, fmt.Sprintf("%s: HTTP %d", h.name, code))
		}
		if !(*sb).Alive() || !healthy(ctx, (*sb).URL) {
			b.crashes++
			t.Logf("server down after %q (exit %d): %s", h.name, (*sb).ExitCode(), (*sb).Stderr(400))
			(*sb).Kill9()
			nsb, err := Start(ctx, t.Env, Opts{Data: b.data})
			if err != nil {
				t.Logf("restart failed: %v", err)
				return false
			}
			*sb = nsb
		}
	}
	return true
}

// logLists keeps the requests that got a 5xx, no answer in time, or no answer.
func (b *barrage) logLists(t *T) {
	for _, s := range b.fiveList {
		t.Logf("5xx: %s", s)
	}
	for _, s := range b.timeoutList {
		t.Logf("no answer within %s: %s", sendTimeout, s)
	}
	for _, s := range b.errList {
		t.Logf("connection error: %s", s)
	}
}

// crossSiteReset sends a cross-site form POST to the reset endpoint, as a page on
// another site open in the tester's browser could send it (no preflight for a form
// post), and says what it did to the witness order.
func crossSiteReset(ctx context.Context, base string, witness bool) string {
	rb, rct, rn := formBody(url.Values{})
	h := hostile{name: "cross-site reset", method: "POST", path: "/sandbox/api/reset", body: rb, ctype: rct, size: rn,
		hdr: map[string]string{"Origin": "https://evil.example", "Referer": "https://evil.example/page", "Sec-Fetch-Site": "cross-site"}}
	resetCode, resetErr := send(ctx, base, h)
	after, _, _ := status(ctx, base, defaultMerchant.User, "deposit", "KEEP-1")
	resetFig := fmt.Sprintf("HTTP %d", resetCode)
	if resetErr != nil {
		resetFig = "error " + trunc(resetErr.Error(), 60)
	}
	if witness && !after {
		resetFig += ", state wiped"
	} else if witness {
		resetFig += ", state kept"
	}
	return resetFig
}

func healthy(ctx context.Context, base string) bool {
	c := &http.Client{Timeout: 3 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/healthz", nil)
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}
