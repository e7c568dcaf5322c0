package proxy

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
	"github.com/vpay88/vpay88-sandbox/server"
)

// shadow is the in-process sandbox that answers the traffic again, and what it has
// learnt of the conversation. Only the shadow goroutine touches it (start may also
// run in New, before that goroutine exists; Replay drives it from its own).
type shadow struct {
	p  *Proxy
	hc *http.Client
	// failed is why the shadow could not start; nothing is shadowed then.
	failed string
	// main runs --profile, and its answers are the ones compared and reported; alt,
	// nil without attribution, runs the other profile and only says which profile
	// answers as the target does where main differs (attribute.go).
	main, alt *side
	// pending wait for the credentials: at most PendingLimit, pendingSize bytes.
	pending     []*exchange
	pendingSize int64
	// replay says the exchanges come from a recording, where credentials and tokens
	// are masks: the shadow's own stand in for them (side.rewrite).
	replay bool
}

func newShadow(p *Proxy) *shadow {
	return &shadow{p: p, hc: &http.Client{Timeout: p.o.ShadowTimeout,
		// The shadow's answers are compared, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// start starts the sandboxes with the traffic's merchant: main under --profile, with
// --forward-to for the capture route, and (unless attribution is off) alt under the
// other profile. An alt that cannot start only costs the attribution.
func (s *shadow) start(username, apiKey string) error {
	main, err := s.startSide(username, apiKey, s.p.o.Profile, s.p.o.ForwardTo)
	if err != nil {
		s.failed = err.Error()
		s.p.mu.Lock()
		s.p.shadowDown = "the shadow sandbox could not start: " + s.p.red.Text(s.failed)
		s.p.mu.Unlock()
		return fmt.Errorf("proxy: shadow sandbox: %w", err)
	}
	s.main = main
	s.p.red.Add(main.sb.APIKey)
	s.p.red.Add(main.sb.SecretKey)
	if !s.p.o.NoAttribution {
		other := otherProfile(s.p.o.Profile)
		if s.alt, err = s.startSide(username, apiKey, other, ""); err != nil {
			s.p.log.Warn("proxy: second shadow not started: differences are not attributed to profiles", "err", err)
		}
	}
	capture := newCaptureProxy(main.sb.URL, s.p.log)
	s.p.mu.Lock()
	s.p.shadowAt, s.p.capture, s.p.shadowDown = main.sb.URL, capture, ""
	if s.alt != nil {
		s.p.altAt = "(" + s.alt.sb.URL + ", profile " + string(s.alt.profile) + ")"
	}
	s.p.mu.Unlock()
	s.p.log.Info("proxy: shadow sandbox started", "url", main.sb.URL, "username", main.sb.Username, "profile", string(main.profile))
	return nil
}

func (s *shadow) startSide(username, apiKey string, profile gateway.Profile, forwardTo string) (*side, error) {
	sb, err := parity.StartSandboxWith(parity.SandboxOptions{Username: username, APIKey: apiKey, SecretKey: s.p.o.Secret,
		Changes: []func(*config.Config){func(cfg *config.Config) { cfg.Profile = profile }},
		Server:  func(so *server.Options) { so.ForwardTo = forwardTo }})
	if err != nil {
		return nil, err
	}
	return newSide(s, sb, profile), nil
}

func otherProfile(p gateway.Profile) gateway.Profile {
	if p == gateway.ProfileObserved {
		return gateway.ProfileDocument
	}
	return gateway.ProfileObserved
}

func (s *shadow) close() {
	for _, sd := range []*side{s.main, s.alt} {
		if sd != nil {
			_ = sd.sb.Close()
		}
	}
	s.main, s.alt = nil, nil
}

// shadowed says whether an exchange is answered again: a vendor endpoint (compared
// whole) or a page at a p_url the target issued (compared by HTTP status).
func (s *shadow) shadowed(ex *exchange) (gateway.Endpoint, bool) {
	if e, ok := gateway.ParseEndpoint(ex.path); ok {
		return e, true
	}
	if s.main == nil {
		return "", false
	}
	_, ok := s.main.purls[requestURI(ex.path, ex.rawQuery)]
	return "", ok
}

// handle shadows one exchange, starting the sandbox first if this exchange brings
// the credentials.
func (s *shadow) handle(ex *exchange) {
	if ex.err != "" || ex.tooLarge || ex.status == 0 {
		s.p.notShadowed.Add(1)
		return
	}
	endpoint, ok := s.shadowed(ex)
	if !ok {
		s.p.notShadowed.Add(1)
		return
	}
	fields := formFields(ex.reqHeader.Get("Content-Type"), ex.reqBody)
	if !s.replay {
		// A recording's fields are masks already; learning them would mask the
		// masks' own text ("[redacted]") wherever it appears.
		s.p.red.LearnRequest(fields)
	}
	if s.main == nil && s.failed == "" {
		user, key, ok := s.credentials(fields)
		if !ok {
			if len(s.pending) < PendingLimit && s.pendingSize+ex.bytes() <= pendingBytes {
				s.pending = append(s.pending, ex)
				s.pendingSize += ex.bytes()
			} else {
				s.p.notShadowed.Add(1)
			}
			return
		}
		if err := s.start(user, key); err != nil {
			s.p.log.Error("proxy: shadow not started: nothing is compared", "err", err)
		}
		pending := s.pending
		s.pending, s.pendingSize = nil, 0
		for _, pe := range pending {
			s.handle(pe)
		}
	}
	if s.main == nil {
		s.p.notShadowed.Add(1)
		return
	}
	s.compare(ex, endpoint, fields)
}

// credentials are the shadow merchant's, from the options or from a request that
// carries both username and api_key. A replayed api_key is a mask: the shadow then
// keeps the options' key, or the sandbox's default ("").
func (s *shadow) credentials(fields url.Values) (user, key string, ok bool) {
	user, key = firstOf(s.p.o.Username, fields.Get("username")), firstOf(s.p.o.APIKey, fields.Get("api_key"))
	if user == "" || key == "" {
		return "", "", false
	}
	if s.replay && key == parity.Redacted {
		key = s.p.o.APIKey
	}
	return user, key, true
}

// compare answers the exchange with each side (tokens and p_urls mapped), files main's
// comparison with the target's answer, its differences attributed to profiles by alt's.
func (s *shadow) compare(ex *exchange, endpoint gateway.Endpoint, fields url.Values) {
	name := string(endpoint)
	if endpoint == "" {
		name = "p_url page " + ex.path
	}
	st := &parity.StepResult{Name: fmt.Sprintf("#%d %s", ex.seq, name), Endpoint: endpoint, Request: s.p.red.Fields(fields)}
	id := orderOf(endpoint, fields)
	if at, ok := s.main.skips(endpoint, id); ok {
		st.Skipped = fmt.Sprintf("order %s: the target and the shadow disagreed on its creation (exchange #%d)", id, at)
		st.Diffs = []parity.Diff{}
		s.p.addStep(ex, st)
		return
	}
	tobs := &parity.Observation{Status: ex.status, ContentType: ex.respHeader.Get("Content-Type"),
		Body: string(decoded(ex.respHeader, ex.respBody))}
	tv, _ := client.DecodeNumbers([]byte(tobs.Body))
	var alt *verdict
	var wg sync.WaitGroup
	if s.alt != nil {
		if _, skip := s.alt.skips(endpoint, id); !skip {
			// Each side's state is its own: the two answer at once.
			wg.Go(func() { alt = s.alt.answer(ex, endpoint, fields, tobs, tv) })
		}
	}
	v := s.main.answer(ex, endpoint, fields, tobs, tv)
	wg.Wait()
	if v.err != nil {
		st.Skipped, st.Diffs = "shadow: "+s.p.red.Text(v.err.Error()), []parity.Diff{}
		s.p.addStep(ex, st)
		return
	}
	if s.alt != nil {
		attribute(v.diffs, alt, s.alt.profile)
	}
	for _, n := range v.follow {
		s.p.log.Info("proxy: "+n, "exchange", ex.seq, "endpoint", string(endpoint))
	}
	for i := range v.diffs {
		v.diffs[i].Target, v.diffs[i].Sandbox = s.p.red.Text(v.diffs[i].Target), s.p.red.Text(v.diffs[i].Sandbox)
	}
	tobs.Body, v.obs.Body = s.p.red.Text(tobs.Body), s.p.red.Text(v.obs.Body)
	st.Target, st.Sandbox, st.Diffs, st.Notes = tobs, v.obs, v.diffs, append(v.notes, v.follow...)
	s.p.addStep(ex, st)
}

// orderOf is the merchant order id a request names: orderid on creation, id on the
// status checks.
func orderOf(endpoint gateway.Endpoint, fields url.Values) string {
	if endpoint == gateway.EndpointGenerateOrders || endpoint == gateway.EndpointWithdrawOrders {
		return fields.Get("orderid")
	}
	return firstOf(fields.Get("orderid"), fields.Get("id"))
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
