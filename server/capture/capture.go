// Package capture records real callbacks (issue 10): a team points its real
// test-environment callback URL at POST /sandbox/capture/{name}; every callback the real gateway sends
// there is recorded, optionally forwarded to the merchant's own URL (--forward-to),
// and checked against the callback shape the sandbox sends (gateway/callback.go), so
// the team learns the real shape once. GET /sandbox/api/captures lists them.
//
// The log is in memory only: the last maxCaptures captures, and fewer when together
// they pass MaxLogBytes (the oldest go first), each counted as the bytes of its
// JSON in GET /sandbox/api/captures: body, headers, findings, forward and all. A
// restart forgets them; a capture is something to read, not state the sandbox acts
// on. Captures are stamped with the sandbox's clock, as orders are.
//
// The HTTP routes are the server's; the log, the checks and the forward are here.
package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server/internal/cut"
)

const (
	// maxCaptures bounds the log's length.
	maxCaptures = 500
	// maxCaptureBody is how much of a body is kept (the vendor's are ~300 bytes); the
	// checks read the whole body (at most the server's 1 MiB body cap).
	maxCaptureBody = 64 << 10
	// MaxLogBytes bounds the whole log: 500 captures of 64 KiB would be 32 MiB.
	MaxLogBytes = 8 << 20
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
	Forward *Forward `json:"forward,omitempty"`

	size int // what it counts against MaxLogBytes
}

// Finding is the result of one check of a captured callback.
type Finding struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Forward is what the merchant's URL answered a forwarded capture.
type Forward struct {
	URL        string  `json:"url"`
	HTTPStatus int     `json:"http_status"`
	LatencyMS  float64 `json:"latency_ms"`
	// Answer is the first KiB of the merchant's answer.
	Answer string `json:"answer"`
	Error  string `json:"error,omitempty"`
}

// Log is the bounded in-memory log of captures, oldest first. It is safe for
// concurrent use.
type Log struct {
	mu     sync.Mutex
	items  []*Capture
	bytes  int
	nextID uint64

	forwardTo string
	client    *http.Client
	merchants Merchants
}

// Merchants lists the merchants whose secrets a captured token is tried with.
type Merchants interface {
	// TokenCandidates lists, in the order they are tried, at most max merchants for
	// a callback captured under name for the order orderID of kind: the merchant
	// name names, then those holding the order, then the others; and how many
	// merchants there are.
	TokenCandidates(name string, kind gateway.Kind, orderID string, max int) ([]gateway.Merchant, int)
}

// New returns an empty log; forwardTo, when set (--forward-to), is the merchant's
// own callback URL every capture is forwarded to.
func New(forwardTo string, merchants Merchants) *Log {
	return &Log{forwardTo: forwardTo, nextID: 1, merchants: merchants, client: &http.Client{
		Timeout: forwardTimeout,
		// The merchant's redirect is relayed to the gateway as it is, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ForwardTo is the URL captures are forwarded to ("": none).
func (l *Log) ForwardTo() string { return l.forwardTo }

func (l *Log) add(cp *Capture) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cp.ID = l.nextID
	l.nextID++
	l.items = append(l.items, cp)
	l.bytes += cp.size
	drop := 0
	for len(l.items)-drop > maxCaptures || (l.bytes > MaxLogBytes && len(l.items)-drop > 1) {
		l.bytes -= l.items[drop].size
		drop++
	}
	if drop > 0 {
		clear(l.items[:drop])
		l.items = slices.Clone(l.items[drop:])
	}
}

// List returns the captures named name ("" for all), newest first, their count, and
// the bytes the whole log counts.
func (l *Log) List(name string, offset, limit int) ([]*Capture, int, int) {
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

// Receive records, checks and (with a forward URL) forwards one callback r received
// under name with body, stamped now by the sandbox's clock. ctx bounds the forward:
// not the request's context, as a gateway that hangs up must not cut the forward
// short, or the merchant may see half a callback; the server's own shutdown does.
// Forwarded, it returns the merchant's answer to relay (cp.Forward says how it went).
func (l *Log) Receive(ctx context.Context, r *http.Request, name string, body []byte, now time.Time) (cp *Capture, status int, answerType string, answer []byte) {
	cp = &Capture{
		Name: cut.To(name, 100), Time: now.UTC(), Method: r.Method, URL: r.URL.RequestURI(), Host: r.Host,
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
	cp.Shape, cp.Merchant, cp.Findings, cp.Dialect = l.checkCallback(name, r.Header.Get("Content-Type"), body)
	cp.DialectSnippet = dialectSnippet(cp.Dialect)
	cp.OK = true
	for _, f := range cp.Findings {
		cp.OK = cp.OK && f.OK
	}

	if l.forwardTo != "" {
		status, answerType, answer, cp.Forward = l.forward(ctx, r, body)
	}
	if b, err := json.Marshal(cp); err == nil {
		cp.size = len(b)
	} else {
		cp.size = MaxLogBytes // cannot happen; kept alone rather than uncounted
	}
	l.add(cp)
	return cp, status, answerType, answer
}

// forward posts the captured body to --forward-to with the gateway's
// end-to-end headers, within forwardTimeout, and returns the merchant's answer.
func (l *Log) forward(ctx context.Context, r *http.Request, body []byte) (int, string, []byte, *Forward) {
	fw := &Forward{URL: l.forwardTo}
	ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
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
	resp, err := l.client.Do(req)
	fw.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		fw.Error = err.Error()
		return 0, "", nil, fw
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxForwardAnswer))
	fw.HTTPStatus = resp.StatusCode
	fw.Answer = cut.To(string(answer), forwardAnswerKept)
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
