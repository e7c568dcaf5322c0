package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/parity"
)

// shadow is the in-process sandbox that answers the traffic again, and what it has
// learnt of the conversation. Only the shadow goroutine touches it (start may also
// run in New, before that goroutine exists).
type shadow struct {
	p  *Proxy
	sb *parity.Sandbox
	hc *http.Client
	// failed is why the shadow could not start; nothing is shadowed then.
	failed string
	// tokens maps the target's auth tokens to the shadow's; purls the request URI
	// (path and query) of the target's p_urls to the shadow's.
	tokens map[string]string
	purls  map[string]string
	// diverged holds the orders whose creation the target and the shadow answered
	// differently, with the exchange that showed it: their later requests are not
	// compared (the two sides no longer hold the same order).
	diverged map[string]int64
	pending  []*exchange
}

func newShadow(p *Proxy) *shadow {
	return &shadow{p: p, tokens: map[string]string{}, purls: map[string]string{}, diverged: map[string]int64{},
		hc: &http.Client{Timeout: p.o.ShadowTimeout,
			// The shadow's answers are compared, not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// start starts the sandbox with the traffic's merchant.
func (s *shadow) start(username, apiKey string) error {
	profile := s.p.o.Profile
	sb, err := parity.StartSandbox(username, apiKey, s.p.o.Secret, func(cfg *config.Config) {
		if profile != "" {
			cfg.Profile = profile
		}
	})
	if err != nil {
		s.failed = err.Error()
		return fmt.Errorf("proxy: shadow sandbox: %w", err)
	}
	s.sb = sb
	s.p.red.Add(apiKey)
	s.p.mu.Lock()
	s.p.shadowAt = sb.URL
	s.p.mu.Unlock()
	s.p.log.Info("proxy: shadow sandbox started", "url", sb.URL, "username", username)
	return nil
}

func (s *shadow) close() {
	if s.sb != nil {
		_ = s.sb.Close()
		s.sb = nil
	}
}

// kind says how an exchange is shadowed: a vendor endpoint (compared whole), a page
// at a p_url the target issued (compared by HTTP status), or not at all.
func (s *shadow) kind(ex *exchange) (gateway.Endpoint, string, bool) {
	if e, ok := gateway.ParseEndpoint(ex.path); ok {
		return e, "", true
	}
	if to, ok := s.purls[requestURI(ex.path, ex.rawQuery)]; ok {
		return "", to, true
	}
	return "", "", false
}

// handle shadows one exchange, starting the sandbox first if this exchange brings
// the credentials.
func (s *shadow) handle(ex *exchange) {
	if ex.err != "" || ex.tooLarge || ex.status == 0 {
		s.p.notShadowed.Add(1)
		return
	}
	endpoint, page, ok := s.kind(ex)
	if !ok {
		s.p.notShadowed.Add(1)
		return
	}
	fields := formFields(ex.reqHeader.Get("Content-Type"), ex.reqBody)
	s.p.red.LearnRequest(fields)
	if s.sb == nil && s.failed == "" {
		user, key := firstOf(s.p.o.Username, fields.Get("username")), firstOf(s.p.o.APIKey, fields.Get("api_key"))
		if user == "" || key == "" {
			if len(s.pending) < PendingLimit {
				s.pending = append(s.pending, ex)
			} else {
				s.p.notShadowed.Add(1)
			}
			return
		}
		if err := s.start(user, key); err != nil {
			s.p.log.Error("proxy: shadow not started: nothing is compared", "err", err)
		}
		pending := s.pending
		s.pending = nil
		for _, pe := range pending {
			s.handle(pe)
		}
	}
	if s.sb == nil {
		s.p.notShadowed.Add(1)
		return
	}
	s.compare(ex, endpoint, page, fields)
}

// compare sends the exchange's request to the shadow (tokens and p_urls mapped) and
// files the comparison of both answers.
func (s *shadow) compare(ex *exchange, endpoint gateway.Endpoint, page string, fields url.Values) {
	name := string(endpoint)
	if page != "" {
		name = "p_url page " + ex.path
	}
	st := &parity.StepResult{Name: fmt.Sprintf("#%d %s", ex.seq, name), Endpoint: endpoint, Request: s.p.red.Fields(fields)}
	if id := firstOf(fields.Get("orderid"), fields.Get("id")); id != "" {
		if at, ok := s.diverged[id]; ok && endpoint != gateway.EndpointGenerateOrders && endpoint != gateway.EndpointWithdrawOrders {
			st.Skipped = fmt.Sprintf("order %s: the target and the shadow disagreed on its creation (exchange #%d)", id, at)
			st.Diffs = []parity.Diff{}
			s.p.addStep(ex, st)
			return
		}
	}
	tobs := &parity.Observation{Status: ex.status, ContentType: ex.respHeader.Get("Content-Type"),
		Body: string(decoded(ex.respHeader, ex.respBody))}
	sobs, err := s.ask(ex, page, fields)
	if err != nil {
		st.Skipped, st.Diffs = "shadow: "+s.p.red.Text(err.Error()), []parity.Diff{}
		s.p.addStep(ex, st)
		return
	}
	tv, _ := client.DecodeNumbers([]byte(tobs.Body))
	sv, _ := client.DecodeNumbers([]byte(sobs.Body))
	s.learn(tv, sv)
	diffs, notes := parity.Compare(tobs, sobs)
	if page != "" {
		// Two checkout pages are two vendors' HTML: only whether each answers is compared.
		var kept []parity.Diff
		for _, d := range diffs {
			if d.Kind == parity.KindHTTPStatus {
				kept = append(kept, d)
			}
		}
		diffs, notes = kept, nil
	}
	if note := s.follow(ex, endpoint, fields, tv, sv); note != "" {
		notes = append(notes, note)
	}
	if diffs == nil {
		diffs = []parity.Diff{}
	}
	for i := range diffs {
		diffs[i].Target, diffs[i].Sandbox = s.p.red.Text(diffs[i].Target), s.p.red.Text(diffs[i].Sandbox)
	}
	tobs.Body, sobs.Body = s.p.red.Text(tobs.Body), s.p.red.Text(sobs.Body)
	st.Target, st.Sandbox, st.Diffs, st.Notes = tobs, sobs, diffs, notes
	s.p.addStep(ex, st)
}

// ask sends the exchange's request to the shadow: same method, path (or the shadow's
// p_url), query, headers and body, with the target's auth token replaced by the
// shadow's (the form then re-encoded in its own encoding).
func (s *shadow) ask(ex *exchange, page string, fields url.Values) (*parity.Observation, error) {
	body, ctype := ex.reqBody, ex.reqHeader.Get("Content-Type")
	if tok := fields.Get("auth"); tok != "" {
		if mine, ok := s.tokens[tok]; ok {
			f := cloneValues(fields)
			f.Set("auth", mine)
			if b, ct, ok := encodeLike(ctype, f); ok {
				body, ctype = b, ct
			}
		}
	}
	target := s.sb.URL + requestURI(ex.path, ex.rawQuery)
	if page != "" {
		target = s.sb.URL + page
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.p.o.ShadowTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, ex.method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = ex.reqHeader.Clone()
	for _, h := range append(hopHeaders, "Accept-Encoding", "Content-Length") {
		req.Header.Del(h)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCapture))
	if err != nil {
		return nil, err
	}
	return &parity.Observation{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(b)}, nil
}

// learn maps what the target issued to what the shadow issued: auth tokens, p_urls.
func (s *shadow) learn(tv, sv any) {
	s.p.red.Learn(tv)
	s.p.red.Learn(sv)
	tm, _ := tv.(map[string]any)
	sm, _ := sv.(map[string]any)
	if tm == nil || sm == nil {
		return
	}
	if t, ok := tm["auth"].(string); ok && t != "" {
		if m, ok := sm["auth"].(string); ok && m != "" {
			s.tokens[t] = m
		}
	}
	if t, ok := tm["p_url"].(string); ok {
		if m, ok := sm["p_url"].(string); ok {
			tu, err1 := url.Parse(t)
			mu, err2 := url.Parse(m)
			if err1 == nil && err2 == nil {
				s.purls[tu.RequestURI()] = mu.RequestURI()
			}
		}
	}
}

// follow notes an order the two sides did not both accept or both refuse; its later
// requests are then not compared. The difference itself (status, message, p_url) is
// in the comparison. The shadow does not force the target's order into existence:
// nothing in the vendor API or the admin API creates an order past its checks.
func (s *shadow) follow(ex *exchange, endpoint gateway.Endpoint, fields url.Values, tv, sv any) string {
	if endpoint != gateway.EndpointGenerateOrders && endpoint != gateway.EndpointWithdrawOrders {
		return ""
	}
	id := fields.Get("orderid")
	ts, sst := accepted(tv), accepted(sv)
	if id == "" || ts == sst {
		return ""
	}
	if _, seen := s.diverged[id]; !seen {
		s.diverged[id] = ex.seq
	}
	verdict := func(b bool) string {
		if b {
			return "accepted"
		}
		return "refused"
	}
	s.p.log.Warn("proxy: outcomes differ", "exchange", ex.seq, "endpoint", string(endpoint), "orderid", id,
		"target", verdict(ts), "shadow", verdict(sst))
	return fmt.Sprintf("order %s: the target %s it, the shadow %s it: its later requests are not compared", id, verdict(ts), verdict(sst))
}

func accepted(v any) bool {
	m, _ := v.(map[string]any)
	b, _ := m["status"].(bool)
	return b
}

// formFields reads a request body as PHP fills $_POST: multipart/form-data or
// application/x-www-form-urlencoded; anything else has no fields.
func formFields(ctype string, body []byte) url.Values {
	mt, params, _ := mime.ParseMediaType(ctype)
	switch mt {
	case "application/x-www-form-urlencoded":
		v, _ := url.ParseQuery(string(body))
		if v == nil {
			v = url.Values{}
		}
		return v
	case "multipart/form-data":
		out := url.Values{}
		f, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxCapture)
		if err != nil {
			return out
		}
		defer f.RemoveAll()
		for k, vs := range f.Value {
			out[k] = vs
		}
		return out
	}
	return url.Values{}
}

// encodeLike writes fields in the request's own encoding (multipart with a fresh
// boundary); false for a body that is neither form.
func encodeLike(ctype string, f url.Values) ([]byte, string, bool) {
	mt, _, _ := mime.ParseMediaType(ctype)
	switch mt {
	case "application/x-www-form-urlencoded":
		return []byte(f.Encode()), ctype, true
	case "multipart/form-data":
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, vs := range f {
			for _, v := range vs {
				if err := w.WriteField(k, v); err != nil {
					return nil, "", false
				}
			}
		}
		if err := w.Close(); err != nil {
			return nil, "", false
		}
		return buf.Bytes(), w.FormDataContentType(), true
	}
	return nil, "", false
}

// decoded is an answer's body as a reader sees it: gunzipped when the target
// compressed it.
func decoded(h http.Header, body []byte) []byte {
	if !strings.EqualFold(h.Get("Content-Encoding"), "gzip") {
		return body
	}
	r, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return body
	}
	b, err := io.ReadAll(io.LimitReader(r, maxCapture))
	if err != nil {
		return body
	}
	return b
}

func requestURI(path, rawQuery string) string {
	if rawQuery == "" {
		return path
	}
	return path + "?" + rawQuery
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
