package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Capture of real callbacks (issue 10): a team points its real test-environment
// callback URL at POST /sandbox/capture/{name}; every callback the real gateway sends
// there is recorded, optionally forwarded to the merchant's own URL (--forward-to),
// and checked against the callback shape the sandbox sends (gateway/callback.go), so
// the team learns the real shape once. GET /sandbox/api/captures lists them.
//
// The log is in memory only: the last maxCaptures captures, and fewer when together
// they pass maxCaptureLogBytes (the oldest go first), each counted as the bytes of its
// JSON in GET /sandbox/api/captures: body, headers, findings, forward and all. A
// restart forgets them; a capture is something to read, not state the sandbox acts
// on. Captures are stamped with the sandbox's clock, as orders are.
const (
	maxCaptures = 500
	// maxCaptureBody is how much of a body is kept (the vendor's are ~300 bytes); the
	// checks read the whole body (at most maxBodyBytes, limitBody's cap).
	maxCaptureBody = 64 << 10
	// maxCaptureLogBytes bounds the whole log: 500 captures of 64 KiB would be 32 MiB.
	maxCaptureLogBytes = 8 << 20
	// forwardTimeout bounds a forward to the merchant: the real gateway waits for the
	// capture's answer, and gateways give up on a callback URL after some seconds.
	forwardTimeout = 10 * time.Second
	// maxForwardAnswer is how much of the merchant's answer is relayed; the first
	// forwardAnswerKept bytes are recorded.
	maxForwardAnswer  = 64 << 10
	forwardAnswerKept = 1 << 10
	// maxFindingDetail cuts a finding's detail (a list of a forged body's extra keys).
	maxFindingDetail = 1 << 10
	// maxTokenTries bounds the secrets tried on one captured token (verifyCaptured),
	// and tokenTriedNamed how many of the merchants tried its finding names.
	maxTokenTries   = 100
	tokenTriedNamed = 5
)

// Capture is one request received at /sandbox/capture/{name}.
type Capture struct {
	ID   uint64    `json:"id"`
	Name string    `json:"name"`
	Time time.Time `json:"time"`
	// Method, URL (path and query), Host and RemoteAddr are as received; behind a
	// tunnel RemoteAddr is the tunnel's and the headers say the rest (X-Forwarded-For).
	Method     string      `json:"method"`
	URL        string      `json:"url"`
	Host       string      `json:"host"`
	RemoteAddr string      `json:"remote_addr"`
	Header     http.Header `json:"headers"`
	// Body is the body as text (the first maxCaptureBody bytes); BodyBase64 carries
	// them as well when they are not valid UTF-8.
	Body       string `json:"body"`
	BodyBase64 []byte `json:"body_base64,omitempty"`
	BodyBytes  int    `json:"body_bytes"`
	Truncated  bool   `json:"truncated,omitempty"`
	// Shape is the callback shape the body was compared with: deposit,
	// deposit_fail or withdrawal ("" when the body is no callback at all).
	Shape string `json:"shape"`
	// Merchant is the configured merchant whose secret verified the token, "" if none.
	Merchant string `json:"merchant"`
	// OK says every finding is ok.
	OK       bool      `json:"ok"`
	Findings []Finding `json:"findings"`
	// Dialect is, per dialect switch the body shows, the value it matches
	// (callback_amount: string…); DialectSnippet is the merchant's config for the
	// values that differ from the document's, ready to paste.
	Dialect        map[string]string `json:"dialect,omitempty"`
	DialectSnippet string            `json:"dialect_snippet,omitempty"`
	// Forward is the forward to --forward-to, when one is configured.
	Forward *CaptureForward `json:"forward,omitempty"`

	size int // what it counts against maxCaptureLogBytes
}

// Finding is the result of one check of a captured callback.
type Finding struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// CaptureForward is what the merchant's URL answered a forwarded capture.
type CaptureForward struct {
	URL        string  `json:"url"`
	HTTPStatus int     `json:"http_status"`
	LatencyMS  float64 `json:"latency_ms"`
	// Answer is the first KiB of the merchant's answer.
	Answer string `json:"answer"`
	Error  string `json:"error,omitempty"`
}

// captureLog is the bounded in-memory log of captures, oldest first.
type captureLog struct {
	mu     sync.Mutex
	items  []*Capture
	bytes  int
	nextID uint64

	forwardTo string
	client    *http.Client
}

func newCaptureLog(forwardTo string) *captureLog {
	return &captureLog{forwardTo: forwardTo, nextID: 1, client: &http.Client{
		Timeout: forwardTimeout,
		// The merchant's redirect is relayed to the gateway as it is, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (l *captureLog) add(cp *Capture) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cp.ID = l.nextID
	l.nextID++
	l.items = append(l.items, cp)
	l.bytes += cp.size
	drop := 0
	for len(l.items)-drop > maxCaptures || (l.bytes > maxCaptureLogBytes && len(l.items)-drop > 1) {
		l.bytes -= l.items[drop].size
		drop++
	}
	if drop > 0 {
		clear(l.items[:drop])
		l.items = slices.Clone(l.items[drop:])
	}
}

// list returns the captures named name ("" for all), newest first, their count, and
// the bytes the whole log counts.
func (l *captureLog) list(name string, offset, limit int) ([]*Capture, int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*Capture
	total := 0
	for i := len(l.items) - 1; i >= 0; i-- {
		cp := l.items[i]
		if name != "" && cp.Name != name {
			continue
		}
		if total >= offset && len(out) < limit {
			out = append(out, cp)
		}
		total++
	}
	return out, total, l.bytes
}

// isCapturePath reports whether a path is the capture endpoint's. guardSite exempts
// it from the Host and cross-site checks: a real gateway reaches the sandbox through
// a tunnel under a foreign Host, and a capture changes nothing but its own log.
func isCapturePath(p string) bool { return strings.HasPrefix(p, "/sandbox/capture/") }

// registerCaptureRoutes mounts the capture endpoint and its list.
func (s *Server) registerCaptureRoutes(e *echo.Echo) {
	e.POST("/sandbox/capture/:name", s.handleCapture)
}

// handleCapture records, checks and (with --forward-to) forwards one callback.
//
// Without --forward-to it answers 200 "success", as a merchant would, whatever the
// checks found: a failing check is information, and a non-2xx answer would only make
// the real gateway retry. With --forward-to it relays the merchant's status and body
// (502 when the merchant cannot be reached in forwardTimeout): the capture then sits
// between the gateway and the merchant, and answering 200 for a merchant that refused
// or is down would tell the gateway the callback was delivered when it was not, so
// its retries would stop and the merchant would lose the callback.
func (s *Server) handleCapture(c echo.Context) error {
	r := c.Request()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return fail(http.StatusBadRequest, "cannot read the body: "+err.Error())
	}
	name, err := url.PathUnescape(c.Param("name"))
	if err != nil {
		name = c.Param("name")
	}
	cp := &Capture{
		Name: cut(name, 100), Time: s.store.Now().UTC(), Method: r.Method, URL: r.URL.RequestURI(), Host: r.Host,
		RemoteAddr: r.RemoteAddr, Header: r.Header.Clone(), BodyBytes: len(body),
	}
	kept := body
	if len(kept) > maxCaptureBody {
		kept, cp.Truncated = kept[:maxCaptureBody], true
	}
	cp.Body = string(kept)
	if !utf8.Valid(kept) {
		cp.BodyBase64 = kept
	}
	cp.Shape, cp.Merchant, cp.Findings, cp.Dialect = s.checkCallback(name, r.Header.Get("Content-Type"), body)
	cp.DialectSnippet = dialectSnippet(cp.Dialect)
	cp.OK = true
	for _, f := range cp.Findings {
		cp.OK = cp.OK && f.OK
	}

	var status int
	var answer []byte
	var answerType string
	if s.captures.forwardTo != "" {
		status, answerType, answer, cp.Forward = s.forwardCapture(r, body)
	}
	if b, err := json.Marshal(cp); err == nil {
		cp.size = len(b)
	} else {
		cp.size = maxCaptureLogBytes // cannot happen; kept alone rather than uncounted
	}
	s.captures.add(cp)
	s.events.publish("capture")
	s.log.Info("callback captured", "name", cp.Name, "shape", cp.Shape, "ok", cp.OK, "merchant", cp.Merchant, "remote", r.RemoteAddr)

	if cp.Forward == nil {
		return c.String(http.StatusOK, "success")
	}
	if cp.Forward.Error != "" {
		return c.String(http.StatusBadGateway, "forward to the merchant failed: "+cp.Forward.Error)
	}
	if answerType != "" {
		c.Response().Header().Set("Content-Type", answerType)
	}
	c.Response().WriteHeader(status)
	_, err = c.Response().Write(answer)
	return err
}

// forwardCapture posts the captured body to --forward-to with the gateway's
// end-to-end headers, within forwardTimeout, and returns the merchant's answer.
func (s *Server) forwardCapture(r *http.Request, body []byte) (int, string, []byte, *CaptureForward) {
	fw := &CaptureForward{URL: s.captures.forwardTo}
	// Not the request's context: a gateway that hangs up must not cut the forward
	// short, or the merchant may see half a callback. The server's own shutdown does.
	ctx, cancel := context.WithTimeout(s.ctx, forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fw.URL, bytes.NewReader(body))
	if err != nil {
		fw.Error = err.Error()
		return 0, "", nil, fw
	}
	for k, vs := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Content-Length", "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding",
			"Te", "Trailer", "Upgrade", "Accept-Encoding", "Proxy-Authorization":
			continue
		}
		req.Header[k] = slices.Clone(vs)
	}
	if host, _, err := splitHostPort(r.RemoteAddr); err == nil {
		if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
			host = prior + ", " + host
		}
		req.Header.Set("X-Forwarded-For", host)
	}
	start := time.Now()
	resp, err := s.captures.client.Do(req)
	fw.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		fw.Error = err.Error()
		return 0, "", nil, fw
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxForwardAnswer))
	fw.HTTPStatus = resp.StatusCode
	fw.Answer = cut(string(answer), forwardAnswerKept)
	if err != nil {
		fw.Error = "reading the merchant's answer: " + err.Error()
		return 0, "", nil, fw
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), answer, fw
}

func splitHostPort(addr string) (string, string, error) {
	u := url.URL{Host: addr}
	if u.Port() == "" {
		return "", "", fmt.Errorf("no port in %q", addr)
	}
	return u.Hostname(), u.Port(), nil
}

// handleAdminCaptures lists the captures, newest first: ?name= one capture name,
// offset and limit as the other lists; bytes is what the whole log counts against
// max_bytes (each capture's JSON).
func (s *Server) handleAdminCaptures(c echo.Context) error {
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	items, total, size := s.captures.list(c.QueryParam("name"), offset, limit)
	if items == nil {
		items = []*Capture{}
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "captures": items, "forward_to": s.captures.forwardTo,
		"bytes": size, "max_bytes": maxCaptureLogBytes})
}

// ---------------------------------------------------------------- the checks

// field is one top-level key of a captured body with its raw JSON value, in order.
type field struct {
	key string
	raw json.RawMessage
}

// callbackShape is one callback body the sandbox sends: its keys in order and the
// JSON type of each, read from the gateway's structs so the two cannot drift.
type callbackShape struct {
	name  string
	keys  []string
	types map[string]string
	// optional keys may be absent (payment_type: observed profile only).
	optional map[string]bool
}

var callbackShapes = map[string]callbackShape{
	"deposit":      shapeOf("deposit", gateway.DepositCallback{}),
	"deposit_fail": shapeOf("deposit_fail", gateway.FailedDepositCallback{}),
	"withdrawal":   shapeOf("withdrawal", gateway.WithdrawalCallback{}),
}

func shapeOf(name string, v any) callbackShape {
	sh := callbackShape{name: name, types: map[string]string{}, optional: map[string]bool{}}
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		sh.keys = append(sh.keys, tag)
		if strings.Contains(opts, "omitempty") {
			sh.optional[tag] = true
		}
		switch {
		case f.Type == reflect.TypeOf(gateway.CallbackAmount{}):
			sh.types[tag] = "number" // the document's; callback_amount: string quotes it
			continue
		}
		switch f.Type.Kind() {
		case reflect.Bool:
			sh.types[tag] = "boolean"
		case reflect.Int64, reflect.Int, reflect.Float64:
			sh.types[tag] = "number" // Number and PlainMoney
		default:
			sh.types[tag] = "string"
		}
	}
	return sh
}

// The formats a captured callback is checked against, compiled at the first check: a
// sandbox that never checks one (most) does not pay for them at start-up.
var (
	fourDecimals = lazyRegexp(`^[0-9]+\.[0-9]{4}$`)
	twoDecimals  = lazyRegexp(`^[0-9]+\.[0-9]{2}$`)
	plainNumber  = lazyRegexp(`^(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$`)
	currencyCode = lazyRegexp(`^[A-Z0-9]{3,5}$`)
	md5Hex       = lazyRegexp(`^[0-9a-f]{32}$`)
)

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// checkCallback compares a body with the callback the sandbox would send and returns
// the shape it was compared with, the merchant whose secret verified the token, and
// the findings.
func (s *Server) checkCallback(name, contentType string, body []byte) (shape, merchant string, fs []Finding, dialect map[string]string) {
	k := &callbackCheck{byKey: map[string]json.RawMessage{}, dialect: map[string]string{}}
	if !k.parse(contentType, body) {
		return "", "", k.fs, nil
	}
	k.pickShape()
	sh := callbackShapes[k.shape]
	k.checkKeys(sh)
	k.checkTypes(sh)
	k.checkFormats()
	k.checkValues()
	// The token: md5(secret + order_id) for some configured merchant's secret.
	kind := gateway.KindDeposit
	if k.shape == "withdrawal" {
		kind = gateway.KindWithdrawal
	}
	merchant, detail, ok := s.verifyCaptured(name, kind, k.str("order_id"), k.str("token"), k.str("payment_type"))
	k.add("token", ok, "%s", detail)
	if tok := k.str("token"); tok != "" {
		k.add("format.token", md5Hex().MatchString(tok), "%s; the sandbox writes 32 lower-case hex digits", cut(tok, 40))
	}
	k.attribute()
	return k.shape, merchant, k.fs, k.dialect
}

// attribute says, per dialect switch the body shows, which value it matches, as a
// finding ("amount is a string: set callback_amount: string") and in k.dialect.
func (k *callbackCheck) attribute() {
	set := func(sw gateway.Switch, v, why string) {
		k.dialect[string(sw)] = v
		k.add("dialect."+string(sw), true, "%s: set %s: %s", why, sw, v)
	}
	switch {
	case k.form:
		set(gateway.SwitchCallbackBody, gateway.ValueForm, "the body is the form field json=<JSON>")
	case !k.plainForm:
		set(gateway.SwitchCallbackBody, gateway.ValueJSON, "the body is JSON")
	}
	if raw, ok := k.byKey["amount"]; ok && !k.plainForm {
		if jsonType(raw) == "string" {
			set(gateway.SwitchCallbackAmount, gateway.ValueString, "amount is a string")
		} else {
			set(gateway.SwitchCallbackAmount, gateway.ValueNumber, "amount is a number")
		}
	}
	if _, ok := k.byKey["username"]; ok {
		set(gateway.SwitchCallbackUsername, gateway.ValueOn, "the callback carries username")
	} else {
		set(gateway.SwitchCallbackUsername, gateway.ValueOff, "the callback carries no username")
	}
	if _, ok := k.byKey["payment_type"]; !ok {
		set(gateway.SwitchPaymentType, gateway.ValueOff, "the callback carries no payment_type")
		return
	}
	pt := k.str("payment_type")
	switch {
	case gateway.LiveWord(pt):
		set(gateway.SwitchPaymentType, gateway.ValueLive, "payment_type "+strconv.Quote(pt)+" is a channel's newest live word")
	case pt == gateway.PaymentTypeBank || pt == gateway.PaymentTypeDuitNow || pt == gateway.PaymentTypeEwallet:
		set(gateway.SwitchPaymentType, gateway.ValueChannel, "payment_type "+strconv.Quote(pt)+" is a channel's name")
	default:
		set(gateway.SwitchPaymentType, gateway.ValueChannel, "payment_type "+strconv.Quote(cut(pt, 40))+" is a word of its own (give the merchant payment_type: "+strconv.Quote(cut(pt, 40))+")")
	}
}

// dialectSnippet is the config for a captured dialect: the switches whose value
// differs from the document's, as a merchant's dialect: block ("" when none do).
func dialectSnippet(d map[string]string) string {
	var lines []string
	for _, sw := range gateway.Switches() {
		if v, ok := d[string(sw.Name)]; ok && v != sw.Document {
			lines = append(lines, "  "+string(sw.Name)+": "+v)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "dialect:\n" + strings.Join(lines, "\n") + "\n"
}

// callbackCheck is one captured body being checked: its fields and the findings.
type callbackCheck struct {
	fs []Finding
	// form says the body was the form field json=<JSON> (callback_body: form);
	// dialect collects the switches the body shows (attribute).
	form    bool
	dialect map[string]string
	// plainForm says the body was a form of the callback's fields, whose values are
	// all strings: the JSON types say nothing of the dialect.
	plainForm bool
	fields    []field
	byKey     map[string]json.RawMessage
	shape     string // deposit, deposit_fail or withdrawal
	status    string // order_status
}

func (k *callbackCheck) add(check string, ok bool, format string, args ...any) {
	k.fs = append(k.fs, Finding{Check: check, OK: ok, Detail: cut(fmt.Sprintf(format, args...), maxFindingDetail)})
}

// str is a key's value as a string ("" when absent or not a string).
func (k *callbackCheck) str(key string) string {
	var v string
	_ = json.Unmarshal(k.byKey[key], &v)
	return v
}

// parse reads the body as JSON, or as a form (every value a string); false when it is
// neither and nothing else can be checked.
func (k *callbackCheck) parse(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	fields, err := jsonFields(body)
	// A member of the family sends the JSON as the form field json=<JSON> (SPEC §7,
	// callback_body: form): its JSON is what is checked.
	if err != nil && mt == "application/x-www-form-urlencoded" && bytes.HasPrefix(body, []byte("json=")) {
		if v, qerr := url.ParseQuery(string(body)); qerr == nil && len(v) == 1 {
			if f, jerr := jsonFields([]byte(v.Get("json"))); jerr == nil {
				fields, err, k.form = f, nil, true
			}
		}
		// The one handler known to take these strips the prefix and parses the rest,
		// so a live body may be JSON as it is, which a form decoder can refuse (Go's
		// refuses a ";" in a remark): read it as that handler does.
		if !k.form {
			if f, jerr := jsonFields(body[len("json="):]); jerr == nil {
				fields, err, k.form = f, nil, true
			}
		}
	}
	if k.form {
		k.add("content_type", true, "%s with the form field json=<JSON>: the callback_body: form dialect", contentType)
	} else {
		k.add("content_type", mt == "application/json", "%s; the sandbox sends application/json", orNone(contentType))
	}
	if err != nil {
		form, ferr := formFields(mt, contentType, body)
		if ferr != nil || len(form) == 0 {
			k.add("json", false, "not a JSON object (%v): nothing else can be checked", err)
			return false
		}
		k.add("json", false, "not a JSON object but a %s form; its fields are checked, all read as strings", mt)
		fields, k.plainForm = form, true
	} else {
		k.add("json", true, "a JSON object with %d keys", len(fields))
	}
	k.fields = fields
	var dups []string
	for _, f := range fields {
		if _, seen := k.byKey[f.key]; seen {
			dups = append(dups, f.key)
		}
		k.byKey[f.key] = f.raw
	}
	if len(dups) > 0 {
		k.add("keys_duplicate", false, "repeated keys: %s (the last one counts)", strings.Join(dups, ", "))
	}
	return true
}

// pickShape decides which of the three bodies this should be: by type and
// order_status, else by the keys it resembles.
func (k *callbackCheck) pickShape() {
	typ := k.str("type")
	k.status = k.str("order_status")
	switch {
	case typ == string(gateway.KindWithdrawal):
		k.shape = "withdrawal"
	case typ == string(gateway.KindDeposit) && k.status == string(gateway.StatusCompleted):
		k.shape = "deposit"
	case typ == string(gateway.KindDeposit):
		k.shape = "deposit_fail"
	}
	if k.shape != "" {
		k.add("shape", true, "type %s, order_status %s: compared with the sandbox's %s callback", typ, orNone(k.status), k.shape)
		return
	}
	k.shape = "deposit"
	if _, ok := k.byKey["remarks"]; ok {
		k.shape = "withdrawal"
	} else if _, ok := k.byKey["name"]; !ok {
		k.shape = "deposit_fail"
	}
	k.add("shape", false, "type is %s, not deposit or withdrawal: compared with the %s callback, which its keys resemble", quoteOrNone(k.byKey["type"]), k.shape)
}

// checkKeys reports missing and extra keys, and keys out of the sandbox's order.
func (k *callbackCheck) checkKeys(sh callbackShape) {
	var missing, extra []string
	for _, key := range sh.keys {
		if _, ok := k.byKey[key]; !ok && !sh.optional[key] {
			missing = append(missing, key)
		}
	}
	// A set, not a search of extra: a forged 1 MiB body may carry 100,000 keys.
	seen := map[string]bool{}
	for _, f := range k.fields {
		if !slices.Contains(sh.keys, f.key) && !seen[f.key] {
			seen[f.key] = true
			extra = append(extra, f.key)
		}
	}
	k.add("keys_missing", len(missing) == 0, "%s", listOr(missing, "every key of the "+k.shape+" callback is there"))
	k.add("keys_extra", len(extra) == 0, "%s", listOr(extra, "no key the sandbox does not send"))
	var order, want []string
	for _, f := range k.fields {
		if slices.Contains(sh.keys, f.key) && !slices.Contains(order, f.key) {
			order = append(order, f.key)
		}
	}
	for _, key := range sh.keys {
		if slices.Contains(order, key) {
			want = append(want, key)
		}
	}
	k.add("key_order", slices.Equal(order, want), "%s (the sandbox: %s)", strings.Join(order, ", "), strings.Join(want, ", "))
}

// checkTypes reports the JSON type of each key the shape knows.
func (k *callbackCheck) checkTypes(sh callbackShape) {
	for _, key := range sh.keys {
		raw, ok := k.byKey[key]
		if !ok {
			continue
		}
		got := jsonType(raw)
		if key == "amount" && got == "string" && !k.plainForm {
			k.add("type."+key, true, "a string: the callback_amount: string dialect (the document's is a number): %s", cut(string(raw), 80))
			continue
		}
		k.add("type."+key, got == sh.types[key], "%s, the sandbox sends a %s: %s", got, sh.types[key], cut(string(raw), 80))
	}
}

// checkFormats reports how amount, charge and currency are written.
func (k *callbackCheck) checkFormats() {
	if raw, ok := k.byKey["amount"]; ok {
		lit := strings.Trim(string(raw), `"`)
		if k.shape == "withdrawal" {
			k.add("format.amount", plainNumber().MatchString(lit), "%s; payout callbacks write the amount plain, as few decimals as it needs (\"amount\": 1)", cut(lit, 40))
		} else {
			k.add("format.amount", fourDecimals().MatchString(lit), "%s; deposit callbacks write the amount with four decimals (300.0000)", cut(lit, 40))
		}
	}
	if raw, ok := k.byKey["charge"]; ok {
		lit := strings.Trim(string(raw), `"`)
		var good bool
		var expect string
		switch {
		case k.shape == "deposit":
			good, expect = fourDecimals().MatchString(lit), "four decimals on a completed deposit (\"9.0000\")"
		case k.shape == "deposit_fail":
			good, expect = twoDecimals().MatchString(lit), "two decimals on a failed deposit (\"0.00\")"
		case k.status == string(gateway.StatusCompleted):
			good, expect = twoDecimals().MatchString(lit), "two decimals on a completed payout (\"5.00\")"
		default:
			good, expect = lit == "0", "\"0\" on a failed payout"
		}
		k.add("format.charge", good, "%s; the sandbox writes %s", cut(lit, 40), expect)
	}
	if _, ok := k.byKey["currency"]; ok {
		k.add("format.currency", currencyCode().MatchString(k.str("currency")), "%s; a code of 3 to 5 upper-case letters or digits", quoteOrNone(k.byKey["currency"]))
	}
}

// checkValues reports status, order_status and payment_type values the sandbox would
// not send.
func (k *callbackCheck) checkValues() {
	if raw, ok := k.byKey["status"]; ok {
		k.add("value.status", strings.Trim(string(raw), `"`) == "true", "%s; every callback carries status true, failures included", cut(string(raw), 40))
	}
	if _, ok := k.byKey["order_status"]; ok {
		known := k.status == string(gateway.StatusCompleted) || k.status == string(gateway.StatusFail) ||
			(k.shape == "withdrawal" && k.status == string(gateway.StatusRejected))
		k.add("value.order_status", known, "%s; the sandbox sends completed or fail (rejected on payouts)", quoteOrNone(k.byKey["order_status"]))
	}
	if _, ok := k.byKey["payment_type"]; ok {
		pt := k.str("payment_type")
		known := gateway.ValidPaymentType(pt)
		k.add("value.payment_type", known, "%s; live callbacks carry Online Banking, QR or EWallet (bank, duitnow, ewallet in older code), or a merchant's own word of at most 32 characters", quoteOrNone(k.byKey["payment_type"]))
	}
}

// verifyCaptured tries merchants' secrets on a captured token: first the merchant the
// capture's name names (a team may name its capture after its merchant), then the
// merchants holding an order with order_id, then the others in the merchant list's
// order, at most maxTokenTries in all, so a forged callback costs the same with
// 10,000 run-time merchants as with one. A token none of them signs is said so with
// the count tried and the first few names, not every name.
func (s *Server) verifyCaptured(name string, kind gateway.Kind, orderID, token, paymentType string) (merchant, detail string, ok bool) {
	if orderID == "" || token == "" {
		return "", "no order_id or no token (as a string): nothing to verify", false
	}
	tried, total := s.tokenCandidates(name, kind, orderID)
	for _, m := range tried {
		want := gateway.Token(m.SecretKey, orderID)
		if !strings.EqualFold(token, want) {
			continue
		}
		detail = "md5(secret + order_id) with merchant " + m.Username + "'s secret"
		if token != want {
			detail += " (in upper-case hex; the sandbox writes lower case)"
		}
		if paymentType != "" && m.PaymentType != "" && m.PaymentType != paymentType {
			detail += "; note: its payment_type is " + m.PaymentType + ", the callback says " + paymentType
		}
		return m.Username, detail, true
	}
	names := make([]string, 0, tokenTriedNamed)
	for _, m := range tried[:min(len(tried), tokenTriedNamed)] {
		names = append(names, cut(m.Username, 60))
	}
	list := strings.Join(names, ", ")
	if more := len(tried) - len(names); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	detail = fmt.Sprintf("md5(secret + order_id) matches no secret of the %d merchants tried (tried %s)", len(tried), list)
	if total > len(tried) {
		detail += fmt.Sprintf("; %d merchants were not tried: a capture tries the merchant its name names, then those holding "+
			"order_id, then the others in order, at most %d", total-len(tried), maxTokenTries)
	}
	return "", detail, false
}

// tokenCandidates are the merchants verifyCaptured tries, in its order, at most
// maxTokenTries, and how many merchants there are.
func (s *Server) tokenCandidates(name string, kind gateway.Kind, orderID string) (out []gateway.Merchant, total int) {
	// The store is read before mu is taken: mu is never held across store work.
	var holders []string
	if heads, err := s.store.FindOrderHeads(kind, orderID); err == nil {
		for _, o := range heads[:min(len(heads), maxTokenTries)] {
			holders = append(holders, o.Merchant)
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	try := func(m *gateway.Merchant) bool {
		if m != nil && !seen[m.Username] {
			seen[m.Username] = true
			out = append(out, *m)
		}
		return len(out) < maxTokenTries
	}
	if try(s.byName[name]) {
		for _, h := range holders {
			if !try(s.merchants[h]) {
				break
			}
		}
	}
	for i := 0; i < len(s.cfg.Merchants)+len(s.runtime) && len(out) < maxTokenTries; i++ {
		if i < len(s.cfg.Merchants) {
			try(s.merchants[s.cfg.Merchants[i].Username])
		} else {
			try(s.merchants[s.runtime[i-len(s.cfg.Merchants)]])
		}
	}
	return out, len(s.merchants)
}

// jsonFields reads a JSON object's top-level keys in order with their raw values.
func jsonFields(body []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("the body is not an object")
	}
	var out []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, field{key: key, raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return out, nil
}

// formFields reads a urlencoded or multipart body's fields in order, each value as a
// JSON string.
func formFields(mt, contentType string, body []byte) ([]field, error) {
	var out []field
	addField := func(k, v string) {
		b, _ := json.Marshal(v)
		out = append(out, field{key: k, raw: b})
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		for _, pair := range strings.Split(string(body), "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			k, err1 := url.QueryUnescape(k)
			v, err2 := url.QueryUnescape(v)
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			addField(k, v)
		}
		return out, nil
	case "multipart/form-data":
		_, params, _ := mime.ParseMediaType(contentType)
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			v, err := io.ReadAll(p)
			if err != nil {
				return nil, err
			}
			addField(p.FormName(), string(v))
		}
	}
	return nil, errors.New("not a form")
}

// jsonType names the JSON type of a raw value.
func jsonType(raw json.RawMessage) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func quoteOrNone(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(absent)"
	}
	return cut(string(raw), 60)
}

func listOr(keys []string, none string) string {
	if len(keys) == 0 {
		return none
	}
	return strings.Join(keys, ", ")
}
