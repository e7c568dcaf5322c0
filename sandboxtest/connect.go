package sandboxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
)

// Connect gives a test the same *Sandbox as New, over a sandbox that is already
// running at baseURL (one instance a CI job's parallel tests share, e.g. `go test -p 8`
// against a `services:` container): it makes a merchant of the test's own through the
// admin API, with a Recorder as its callback URL, and deletes the merchant with
// everything it owns when the test ends. Its orders, balances and callbacks are its
// own; the clock is the instance's, shared by every test (Advance moves it for all).
func Connect(t testing.TB, baseURL string, opts ...Option) *Sandbox {
	t.Helper()
	sb, err := Dial(baseURL, opts...)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	sb.tb = t
	t.Cleanup(sb.Close)
	return sb
}

// Dial is Connect outside a test; Close deletes the merchant and stops the Recorder.
func Dial(baseURL string, opts ...Option) (*Sandbox, error) {
	o := options{}
	for _, f := range opts {
		f(&o)
	}
	base := strings.TrimRight(baseURL, "/")
	sb := &Sandbox{URL: base, remote: &remote{base: base, token: o.adminToken, hc: &http.Client{Timeout: 30 * time.Second}}}
	rec, err := inproc.NewRecorder(inproc.RecorderOptions{Addr: o.recorderAddr, Secret: func() string { return sb.SecretKey }})
	if err != nil {
		return nil, err
	}
	sb.Recorder = &Recorder{rec}
	cbURL := rec.URL()
	if o.callbackHost != "" {
		cbURL = replaceHost(cbURL, o.callbackHost)
	}
	var m struct {
		Username  string `json:"username"`
		APIKey    string `json:"api_key"`
		SecretKey string `json:"secret_key"`
	}
	body, _ := json.Marshal(map[string]any{"callback_url": cbURL})
	if err := sb.remote.do(context.Background(), http.MethodPost, "/sandbox/api/merchants", "application/json", body, http.StatusCreated, &m); err != nil {
		rec.Close()
		return nil, fmt.Errorf("make a merchant at %s: %w", base, err)
	}
	sb.Username, sb.APIKey, sb.SecretKey = m.Username, m.APIKey, m.SecretKey
	copts := append([]client.Option{client.WithCredentials(sb.Username, sb.APIKey), client.WithTimeout(10 * time.Second)}, o.clientOpts...)
	sb.Client = client.New(sb.URL, copts...)
	return sb, nil
}

// WithAdminToken sends the sandbox's --admin-token with Connect's admin calls.
func WithAdminToken(token string) Option { return func(o *options) { o.adminToken = token } }

// WithRecorderAddr makes Connect's Recorder listen on addr (default 127.0.0.1:0), e.g.
// 0.0.0.0:0 when the sandbox runs in a container.
func WithRecorderAddr(addr string) Option { return func(o *options) { o.recorderAddr = addr } }

// WithCallbackHost gives the sandbox the Recorder's URL with this host, the name the
// sandbox's container knows the test's host by (host.docker.internal, a service name).
func WithCallbackHost(host string) Option { return func(o *options) { o.callbackHost = host } }

func replaceHost(raw, host string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Host = host + ":" + u.Port()
	return u.String()
}

// remote is the admin API of a sandbox in another process.
type remote struct {
	base, token string
	hc          *http.Client
}

// do sends one admin request and decodes its JSON answer into out, requiring want.
func (r *remote) do(ctx context.Context, method, path, ctype string, body []byte, want int, out any) error {
	_, err := r.doOneOf(ctx, method, path, ctype, body, []int{want}, out)
	return err
}

// doOneOf is do accepting any status of wants; it returns the status.
func (r *remote) doOneOf(ctx context.Context, method, path, ctype string, body []byte, wants []int, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if !slices.Contains(wants, resp.StatusCode) {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, e.Error)
		}
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out == nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.Unmarshal(b, out)
}

// advanceWait is how long a remote Advance's POST waits for the move before the
// sandbox answers 202 with a job (under the client's 30 s timeout); advanceLimit
// bounds the polling of that job.
var advanceWait = "20s" // a var: a test of this package takes the job path with 0s

const advanceLimit = 10 * time.Minute

// advance moves a remote sandbox's clock: POST /sandbox/api/clock, and when the
// move outlasts advanceWait (a 202 with a job: a backlog of due payouts), polls the
// job until it is done.
func (r *remote) advance(ctx context.Context, d time.Duration) error {
	body, _ := json.Marshal(map[string]string{"advance": d.String(), "wait": advanceWait})
	// The fields of the job the admin API answers 202 with and at its poll URL.
	var job struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Poll  string `json:"poll"`
		Error string `json:"error"`
	}
	code, err := r.doOneOf(ctx, http.MethodPost, "/sandbox/api/clock", "application/json", body, []int{http.StatusOK, http.StatusAccepted}, &job)
	if err != nil || code == http.StatusOK {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, advanceLimit)
	defer cancel()
	pause := 50 * time.Millisecond
	for job.State == "queued" || job.State == "running" {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the sandbox's clock job %s: %w", job.ID, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
		if err := r.do(ctx, http.MethodGet, job.Poll, "", nil, http.StatusOK, &job); err != nil {
			return err
		}
	}
	if job.State != "done" {
		return fmt.Errorf("the sandbox's clock job %s: %s", job.ID, job.Error)
	}
	return nil
}

// RequestFilter selects journal entries for Requests; empty fields match anything.
// Merchant defaults to the Sandbox's own.
type RequestFilter struct {
	Endpoint client.Endpoint
	OrderID  string
	// Message is the answer's message: "OK" for an accepted request.
	Message string
	Since   time.Time
	Limit   int
}

// Request is one vendor request the sandbox journaled, as GET /sandbox/api/requests
// answers it.
type Request struct {
	ID        uint64    `json:"id"`
	RequestID string    `json:"request_id"`
	Time      time.Time `json:"time"`
	// Endpoint is the path, e.g. /merchant/generate_orders.
	Endpoint string `json:"endpoint"`
	// Merchant is the merchant the request was made as, when the sandbox could tell.
	Merchant string `json:"merchant,omitempty"`
	// Fields are the request's form fields, each value cut at 2 KiB.
	Fields map[string]string `json:"fields"`
	// HTTP is the status answered; Message the answer's message ("OK" when accepted);
	// Response the answer's body, cut at 8 KiB.
	HTTP      int     `json:"http_status"`
	Message   string  `json:"message"`
	Response  string  `json:"response"`
	LatencyMS float64 `json:"latency_ms"`
	// Fault names the injected fault that hit the request; empty when none did.
	Fault string `json:"fault,omitempty"`
}

// Requests answers how many of the merchant's vendor requests match f, and the newest
// of them (at most f.Limit, default 100), as WireMock's verify does:
//
//	n, _, err := sb.Requests(ctx, sandboxtest.RequestFilter{Endpoint: client.EndpointGenerateOrders, OrderID: "o-1"})
func (sb *Sandbox) Requests(ctx context.Context, f RequestFilter) (int, []Request, error) {
	q := url.Values{"merchant": {sb.Username}}
	if f.Endpoint != "" {
		q.Set("endpoint", string(f.Endpoint))
	}
	if f.OrderID != "" {
		q.Set("orderid", f.OrderID)
	}
	if f.Message != "" {
		q.Set("message", f.Message)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", fmt.Sprint(f.Limit))
	}
	var v struct {
		Count    int       `json:"count"`
		Requests []Request `json:"requests"`
	}
	err := sb.admin().do(ctx, http.MethodGet, "/sandbox/api/requests?"+q.Encode(), "", nil, http.StatusOK, &v)
	return v.Count, v.Requests, err
}

// RequestCount is Requests' count, failing the test on an error: assert.Equal(t, 3,
// sb.RequestCount(t, filter)).
func (sb *Sandbox) RequestCount(t testing.TB, f RequestFilter) int {
	t.Helper()
	n, _, err := sb.Requests(context.Background(), f)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	return n
}

// admin is the admin API client: the remote one, or one for the in-process server.
func (sb *Sandbox) admin() *remote {
	if sb.remote != nil {
		return sb.remote
	}
	return &remote{base: sb.URL, hc: &http.Client{Timeout: 30 * time.Second}}
}

// closeRemote deletes the merchant Connect made and stops its Recorder.
func (sb *Sandbox) closeRemote() {
	if sb.Username != "" {
		err := sb.remote.do(context.Background(), http.MethodDelete, "/sandbox/api/merchants/"+url.PathEscape(sb.Username), "", nil, http.StatusOK, nil)
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Printf("sandboxtest: delete merchant %s: %v\n", sb.Username, err)
		}
		sb.Username = ""
	}
	sb.Recorder.Close()
}
