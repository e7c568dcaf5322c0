package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// side is one shadow sandbox and what it has learnt of the conversation: the target's
// auth tokens and p_urls mapped to its own, and the orders it could not follow. The
// main side and the attribution's side each keep their own, since each issues its
// own tokens and may refuse what the other accepts.
type side struct {
	s       *shadow
	sb      *parity.Sandbox
	profile gateway.Profile
	// tokens maps the target's auth tokens to the shadow's; purls the request URI
	// (path and query) of the target's p_urls to the shadow's.
	tokens map[string]string
	purls  map[string]string
	// latest is the last auth token the shadow issued and latestTarget the target's
	// at the same exchange: a replayed token the map does not know stands for the
	// latest one (rewrite).
	latest, latestTarget string
	// diverged holds the orders the target and the shadow do not both hold, with the
	// exchange that showed it: their later requests are not compared.
	diverged map[string]int64
}

func newSide(s *shadow, sb *parity.Sandbox, profile gateway.Profile) *side {
	return &side{s: s, sb: sb, profile: profile, tokens: map[string]string{}, purls: map[string]string{},
		diverged: map[string]int64{}}
}

// skips reports whether the side does not compare a request of order id, and the
// exchange that set the order apart.
func (sd *side) skips(endpoint gateway.Endpoint, id string) (int64, bool) {
	if id == "" || endpoint == gateway.EndpointGenerateOrders || endpoint == gateway.EndpointWithdrawOrders {
		return 0, false
	}
	at, ok := sd.diverged[id]
	return at, ok
}

// verdict is one side's answer to an exchange compared with the target's: the
// differences, the comparison's notes, and follow, what the side did to follow the
// target (follow.go).
type verdict struct {
	obs    *parity.Observation
	diffs  []parity.Diff
	notes  []string
	follow []string
	err    error
}

// answer sends the exchange's request to the side, compares its answer with the
// target's (tv is the target's body decoded), then follows the target's outcome.
func (sd *side) answer(ex *exchange, endpoint gateway.Endpoint, fields url.Values, tobs *parity.Observation, tv any) *verdict {
	page := ""
	if endpoint == "" {
		var ok bool
		if page, ok = sd.purls[requestURI(ex.path, ex.rawQuery)]; !ok {
			return &verdict{err: fmt.Errorf("no p_url of the %s shadow stands for %s", sd.profile, ex.path)}
		}
	}
	sobs, err := sd.ask(ex, page, fields)
	if err != nil {
		return &verdict{err: err}
	}
	sv, _ := client.DecodeNumbers([]byte(sobs.Body))
	sd.learn(tv, sv)
	v := &verdict{obs: sobs}
	v.diffs, v.notes = parity.Compare(tobs, sobs)
	for i := range v.diffs {
		v.diffs[i].Switch = parity.SwitchFor(endpoint, fields, tv, sv, v.diffs[i])
	}
	if page != "" {
		// Two checkout pages are two vendors' HTML: only whether each answers is compared.
		var kept []parity.Diff
		for _, d := range v.diffs {
			if d.Kind == parity.KindHTTPStatus {
				kept = append(kept, d)
			}
		}
		v.diffs, v.notes = kept, nil
	}
	if v.diffs == nil {
		v.diffs = []parity.Diff{}
	}
	if note := sd.followTarget(ex, endpoint, fields, tv, sv); note != "" {
		v.follow = []string{note}
	}
	return v
}

// ask sends the exchange's request to the side: same method, path (or the side's
// p_url), query, headers and body, with what rewrite replaces (the form then
// re-encoded in its own encoding).
func (sd *side) ask(ex *exchange, page string, fields url.Values) (*parity.Observation, error) {
	body, ctype := ex.reqBody, ex.reqHeader.Get("Content-Type")
	if f, changed := sd.rewrite(fields); changed {
		if b, ct, ok := encodeLike(ctype, f); ok {
			body, ctype = b, ct
		}
	}
	target := sd.sb.URL + requestURI(ex.path, ex.rawQuery)
	if page != "" {
		target = sd.sb.URL + page
	}
	ctx, cancel := context.WithTimeout(context.Background(), sd.s.p.o.ShadowTimeout)
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
	resp, err := sd.s.hc.Do(req)
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

// rewrite is the request's fields as the side must hear them: the target's auth
// token replaced by the side's; in a replay, the masked credentials replaced by the
// side's own as well. changed is false when nothing was replaced: the body then goes
// as the integration sent it.
func (sd *side) rewrite(fields url.Values) (f url.Values, changed bool) {
	f = cloneValues(fields)
	if tok := f.Get("auth"); tok != "" {
		if mine, ok := sd.token(tok); ok {
			f.Set("auth", mine)
			changed = true
		}
	}
	if !sd.s.replay {
		return f, changed
	}
	for k, v := range map[string]string{"api_key": sd.sb.APIKey, "secret": sd.sb.SecretKey, "secret_key": sd.sb.SecretKey} {
		if f.Get(k) == parity.Redacted {
			f.Set(k, v)
			changed = true
		}
	}
	return f, changed
}

// token is the side's auth token for a target's. A recording masks tokens character
// by character, so there the map is keyed by masks, and two tokens of the same
// character classes share one key (the later one wins). A masked token the map does
// not know (its auth answer was not recorded) is taken for the latest the side
// issued when it is as long as the target's latest: a shorter or longer one is a
// token the integration made up, which the shadow must refuse as the target did.
func (sd *side) token(t string) (string, bool) {
	if mine, ok := sd.tokens[t]; ok {
		return mine, true
	}
	if sd.s.replay && sd.latest != "" && len(t) == len(sd.latestTarget) {
		return sd.latest, true
	}
	return "", false
}

// learn maps what the target issued to what the side issued: auth tokens, p_urls.
func (sd *side) learn(tv, sv any) {
	red := sd.s.p.red
	red.Learn(tv)
	red.Learn(sv)
	tm, _ := tv.(map[string]any)
	sm, _ := sv.(map[string]any)
	if tm == nil || sm == nil {
		return
	}
	if t, ok := tm["auth"].(string); ok && t != "" {
		if m, ok := sm["auth"].(string); ok && m != "" {
			sd.tokens[t] = m
			sd.latest, sd.latestTarget = m, t
		}
	}
	if t, ok := tm["p_url"].(string); ok {
		if m, ok := sm["p_url"].(string); ok {
			sd.mapPURL(t, m)
		}
	}
}

func (sd *side) mapPURL(target, mine string) {
	tu, err1 := url.Parse(target)
	mu, err2 := url.Parse(mine)
	if err1 == nil && err2 == nil {
		sd.purls[tu.RequestURI()] = mu.RequestURI()
	}
}
