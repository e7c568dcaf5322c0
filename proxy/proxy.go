// Package proxy captures a team's own traffic with the real gateway: a reverse proxy
// the merchant's integration points at instead of the gateway. Every request goes to
// the target unchanged and the target's answer comes back unchanged, byte for byte;
// meanwhile the same request is answered by a shadow sandbox, off the integration's
// path, and the two answers are compared with parity's comparison. The exchanges are
// recorded (secrets masked) and the differences listed.
package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/parity"
)

// maxBody bounds what the proxy reads of a request or an answer: the vendor's are a
// few KiB.
const maxBody = 4 << 20

// queueSize bounds the shadow work waiting: when the shadow falls behind, exchanges
// are compared no more (Dropped counts them) rather than slowing the integration.
const queueSize = 1024

// Options configures a Proxy.
type Options struct {
	// Target is the real gateway's base URL.
	Target string
	// Shadow is the base URL of the sandbox that answers in shadow.
	Shadow string
	// Record, when set, receives one JSON line per exchange (secrets masked).
	Record io.Writer
	Logger *slog.Logger
	Client *http.Client
}

// Exchange is one request with both answers and their differences.
type Exchange struct {
	Time     time.Time          `json:"time"`
	Method   string             `json:"method"`
	Path     string             `json:"path"`
	Endpoint string             `json:"endpoint,omitempty"`
	Request  map[string]string  `json:"request"`
	Target   parity.Observation `json:"target"`
	Sandbox  parity.Observation `json:"sandbox"`
	Diffs    []parity.Diff      `json:"diffs"`
	Error    string             `json:"error,omitempty"`
}

// Proxy is an http.Handler forwarding to the target and comparing in shadow.
type Proxy struct {
	o      Options
	target *url.URL
	jobs   chan job
	wg     sync.WaitGroup

	mu        sync.Mutex
	tokens    map[string]string // target auth token → the shadow's
	exchanges []Exchange        // the last ones with differences, newest last
	secrets   []string          // values masked in the record (tokens, api keys)
	// Dropped counts exchanges not compared because the shadow was behind.
	dropped int
}

type job struct {
	r      *http.Request
	body   []byte
	fields url.Values
	target parity.Observation
	at     time.Time
}

// New returns a proxy; Close drains its shadow work.
func New(o Options) (*Proxy, error) {
	t, err := url.Parse(strings.TrimRight(o.Target, "/"))
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	p := &Proxy{o: o, target: t, jobs: make(chan job, queueSize), tokens: map[string]string{}}
	p.wg.Add(1)
	go p.shadowLoop()
	return p, nil
}

// Close waits for the exchanges queued to be compared, and stops.
func (p *Proxy) Close() {
	close(p.jobs)
	p.wg.Wait()
}

// hopHeaders are not forwarded (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Te", "Trailer"}

// ServeHTTP forwards a request to the target and answers with the target's answer,
// then queues the exchange for the shadow. /proxy/differences lists the differences.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/proxy/differences" {
		p.writeDifferences(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "proxy: read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	resp, err := p.forward(r, p.o.Target, body, nil)
	if err != nil {
		p.o.Logger.Warn("proxy: target unreachable", "path", r.URL.Path, "err", err)
		http.Error(w, "proxy: target unreachable: "+err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
	j := job{r: r.Clone(r.Context()), body: body, fields: formFields(r.Header.Get("Content-Type"), body), at: time.Now(),
		target: parity.Observation{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(answer)}}
	select {
	case p.jobs <- j:
	default:
		p.mu.Lock()
		p.dropped++
		p.mu.Unlock()
	}
}

// forward sends the request to base with body (or, for the shadow, the rewritten
// body) and returns the answer.
func (p *Proxy) forward(r *http.Request, base string, body []byte, header http.Header) (*http.Response, error) {
	u := strings.TrimRight(base, "/") + r.URL.RequestURI()
	req, err := http.NewRequest(r.Method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := header
	if h == nil {
		h = r.Header
	}
	req.Header = h.Clone()
	for _, k := range hopHeaders {
		req.Header.Del(k)
	}
	req.Host = ""
	return p.o.Client.Do(req)
}

// formFields reads a vendor request's fields, as the sandbox would.
func formFields(contentType string, body []byte) url.Values {
	mt, params, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded":
		v, _ := url.ParseQuery(string(body))
		return v
	case "multipart/form-data":
		f, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxBody)
		if err != nil {
			return url.Values{}
		}
		defer f.RemoveAll()
		return url.Values(f.Value)
	}
	return url.Values{}
}

// shadowLoop answers each queued exchange with the shadow and compares.
func (p *Proxy) shadowLoop() {
	defer p.wg.Done()
	for j := range p.jobs {
		p.compare(j)
	}
}

func (p *Proxy) compare(j job) {
	ex := Exchange{Time: j.at.UTC(), Method: j.r.Method, Path: j.r.URL.Path, Request: map[string]string{}, Target: j.target}
	if e, ok := gateway.ParseEndpoint(j.r.URL.Path); ok {
		ex.Endpoint = string(e)
	}
	fields := p.shadowFields(j.fields)
	body := []byte(fields.Encode())
	h := j.r.Header.Clone()
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Del("Content-Length")
	resp, err := p.forward(j.r, p.o.Shadow, body, h)
	if err != nil {
		ex.Error = "shadow: " + err.Error()
	} else {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		ex.Sandbox = parity.Observation{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(b)}
		ex.Diffs, _ = parity.Compare(&ex.Target, &ex.Sandbox)
		if ex.Endpoint == string(gateway.EndpointAuth) {
			p.learnToken(ex.Target.Body, ex.Sandbox.Body)
		}
	}
	p.remember(j.fields, &ex)
	if len(ex.Diffs) > 0 || ex.Error != "" {
		p.o.Logger.Info("proxy: difference", "path", ex.Path, "diffs", len(ex.Diffs), "err", ex.Error)
	}
}

// shadowFields are the request's fields with the target's auth token replaced by the
// shadow's, so a request made with a token the target issued is the same request in
// the shadow.
func (p *Proxy) shadowFields(f url.Values) url.Values {
	out := url.Values{}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, vs := range f {
		for _, v := range vs {
			if k == "auth" {
				if s, ok := p.tokens[v]; ok {
					v = s
				}
			}
			out.Add(k, v)
		}
	}
	return out
}

// learnToken maps the target's auth token to the shadow's from two auth answers.
func (p *Proxy) learnToken(target, shadow string) {
	var t, s gateway.AuthAnswer
	if json.Unmarshal([]byte(target), &t) != nil || json.Unmarshal([]byte(shadow), &s) != nil || t.Auth == "" || s.Auth == "" {
		return
	}
	p.mu.Lock()
	p.tokens[t.Auth] = s.Auth
	p.secrets = append(p.secrets, t.Auth, s.Auth)
	p.mu.Unlock()
}

// maxKept bounds the exchanges with differences the proxy keeps for its list.
const maxKept = 1000

// remember records an exchange (masked) and keeps it if it differs.
func (p *Proxy) remember(fields url.Values, ex *Exchange) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range fields {
		v := fields.Get(k)
		switch k {
		case "api_key", "secret", "auth":
			p.secrets = append(p.secrets, v)
			v = parity.Mask(v)
		}
		ex.Request[k] = v
	}
	for _, s := range p.secrets {
		if len(s) >= 8 {
			ex.Target.Body = strings.ReplaceAll(ex.Target.Body, s, parity.Mask(s))
			ex.Sandbox.Body = strings.ReplaceAll(ex.Sandbox.Body, s, parity.Mask(s))
		}
	}
	if p.o.Record != nil {
		b, _ := json.Marshal(ex)
		_, _ = p.o.Record.Write(append(b, '\n'))
	}
	if len(ex.Diffs) > 0 || ex.Error != "" {
		p.exchanges = append(p.exchanges, *ex)
		if len(p.exchanges) > maxKept {
			p.exchanges = p.exchanges[len(p.exchanges)-maxKept:]
		}
	}
}

// Differences returns the exchanges whose answers differed, oldest first, and how many
// exchanges were not compared because the shadow was behind.
func (p *Proxy) Differences() ([]Exchange, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exchange(nil), p.exchanges...), p.dropped
}

func (p *Proxy) writeDifferences(w http.ResponseWriter) {
	ex, dropped := p.Differences()
	if ex == nil {
		ex = []Exchange{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"count": len(ex), "dropped": dropped, "exchanges": ex})
}
