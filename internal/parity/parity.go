// Package parity runs one scripted conversation with the Vpay88 API against a target
// (Vpay88's real test environment, or a recording of it) and against the sandbox, and
// reports per step where the two answer differently: HTTP status, content type, JSON
// keys, value types, number formats and message texts. Values that vary by nature
// (auth tokens, p_url, datetimes) are compared by shape; list elements (bank names,
// limits) by shape too, unless Options.Values asks for their values. Each difference
// says which sandbox profile, if either, answers as the target does (profile.go).
//
// It is the engine of `vpay88-sandbox parity`; StartSandbox gives it an in-process
// sandbox to compare with.
package parity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Options configures a run.
type Options struct {
	// Target is the gateway to check, with its merchant's credentials
	// (client.WithCredentials). Nil when Replay is set.
	Target *client.Client
	// TargetAPIKey is the target merchant's api_key (a client does not reveal it).
	TargetAPIKey string
	// Replay, when set, stands in for the target: its recorded answers are compared
	// with the sandbox's, offline. Its currency and amount are reused.
	Replay *Recording
	// Sandbox is the sandbox to compare with, with its merchant's credentials.
	Sandbox *client.Client
	// SandboxAPIKey is the sandbox merchant's api_key.
	SandboxAPIKey string
	// Secrets are more values to mask in the report and the recording (the merchant's
	// secret key); both api keys are masked anyway.
	Secrets []string
	// Currency is the currency the orders use; default MYR.
	Currency string
	// AllowPayouts adds a real withdrawal, its duplicate and its status to the
	// conversation. Off by default: against the real gateway it moves money.
	AllowPayouts bool
	// OrderPrefix starts the merchant order ids the run creates; default "parity".
	OrderPrefix string
	// Now is the clock for the recording's time; default time.Now.
	Now func() time.Time
	// Values compares list elements by value as well as by shape: the rates' min and
	// max per currency, the banks per currency and id (values.go).
	Values bool
	// Profile is the profile the sandbox runs ("" is the document profile), which
	// the attribution of differences to profiles starts from.
	Profile gateway.Profile
}

// Observation is one side's answer to a step, as the report shows it (secrets
// masked).
type Observation struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

// StepResult is one step of the conversation with both answers and their differences.
type StepResult struct {
	Name     string          `json:"name"`
	Endpoint client.Endpoint `json:"endpoint"`
	// Request is the sandbox request's fields (the target's differ only by
	// credentials and tokens), secrets masked.
	Request map[string]string `json:"request"`
	Target  *Observation      `json:"target,omitempty"`
	Sandbox *Observation      `json:"sandbox,omitempty"`
	Diffs   []Diff            `json:"diffs"`
	// Notes are differences that do not fail the run (a charset parameter, the
	// vendor's trailing commas, an empty list).
	Notes []string `json:"notes,omitempty"`
	// Skipped says why the step was not compared (absent from the recording).
	Skipped string `json:"skipped,omitempty"`
}

// Same reports whether the step was compared and no difference was found.
func (s *StepResult) Same() bool { return s.Skipped == "" && len(s.Diffs) == 0 }

// Report is the outcome of a run.
type Report struct {
	Target       string `json:"target"`
	Sandbox      string `json:"sandbox"`
	Currency     string `json:"currency"`
	Amount       string `json:"amount"`
	AllowPayouts bool   `json:"allow_payouts"`
	// Profile is the sandbox's profile; Values says whether list elements were
	// compared by value.
	Profile   gateway.Profile `json:"profile"`
	Values    bool            `json:"values"`
	Steps     []*StepResult   `json:"steps"`
	Same      int             `json:"same"`
	Different int             `json:"different"`
	Skipped   int             `json:"skipped"`
	// Recording holds the target's answers, redacted, when the target was live.
	Recording *Recording `json:"-"`
}

// OK reports whether no step differed.
func (r *Report) OK() bool { return r.Different == 0 }

// NetworkError is a step that got no answer from one side; a run stops at it.
type NetworkError struct {
	Step string
	Side string
	Err  error
}

// Error names the step and the side.
func (e *NetworkError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Step, e.Side, e.Err) }

// Unwrap returns the transport error.
func (e *NetworkError) Unwrap() error { return e.Err }

// defaultAmount is the order amount when the target's currency answer gives no
// minimum: the vendor's example amount.
const defaultAmount = "100"

// Run talks to both sides step by step. It returns the report so far and a
// *NetworkError if a side could not be reached; differences are in the report, not
// the error.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Sandbox == nil {
		return nil, errors.New("parity: no sandbox")
	}
	if o.Target == nil && o.Replay == nil {
		return nil, errors.New("parity: no target and no recording")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OrderPrefix == "" {
		o.OrderPrefix = "parity"
	}
	c := newConversation(o)
	for _, st := range script() {
		if st.when != nil && !st.when(c.r) {
			continue
		}
		if err := c.step(ctx, st); err != nil {
			return finish(c.rep, c.rec, c.red), err
		}
	}
	c.rep.Currency, c.rep.Amount = c.r.currency, c.r.amount
	if c.rec != nil {
		c.rec.Currency, c.rec.Amount = c.r.currency, c.r.amount
	}
	return finish(c.rep, c.rec, c.red), nil
}

// conversation is one run in progress: the shared state, both sides, the report and
// (when the target is live) the recording being written.
type conversation struct {
	o            Options
	r            *run
	red          *Redactor
	tside, sside *side
	rep          *Report
	rec          *Recording
	attr         *attribution
}

// newConversation sets up a run: its order ids, what to mask, and an empty report.
func newConversation(o Options) *conversation {
	r := &run{currency: o.Currency, allowPayouts: o.AllowPayouts}
	if r.currency == "" {
		r.currency = "MYR"
	}
	if o.Replay != nil {
		r.currency, r.amount, r.allowPayouts = o.Replay.Currency, o.Replay.Amount, o.AllowPayouts
	}
	id := o.OrderPrefix + "-" + o.Now().UTC().Format("20060102T150405") + "-" + randomHex(3)
	r.depositID, r.withdrawalID, r.unknownID = id+"-d", id+"-w", id+"-unknown"

	red := NewRedactor()
	for _, s := range append([]string{o.TargetAPIKey, o.SandboxAPIKey}, o.Secrets...) {
		red.Add(s)
	}
	profile := o.Profile
	if profile == "" {
		profile = gateway.ProfileDocument
	}
	c := &conversation{o: o, r: r, red: red,
		tside: &side{apiKey: o.TargetAPIKey},
		sside: &side{username: o.Sandbox.Username(), apiKey: o.SandboxAPIKey},
		rep:   &Report{Sandbox: o.Sandbox.BaseURL(), AllowPayouts: r.allowPayouts, Profile: profile, Values: o.Values},
		attr:  &attribution{profile: profile, configured: map[string]bankSet{}}}
	if o.Replay != nil {
		c.rep.Target = "recording of " + o.Replay.Target
		c.tside.username = o.Replay.Username
	} else {
		c.rep.Target = o.Target.BaseURL()
		c.tside.username = o.Target.Username()
		c.rec = &Recording{Format: RecordingFormat, RecordedAt: o.Now().UTC().Truncate(time.Second),
			Target: o.Target.BaseURL(), Username: c.tside.username, AllowPayouts: r.allowPayouts}
	}
	return c
}

// step sends one step to both sides and adds its result to the report. The error is a
// *NetworkError.
func (c *conversation) step(ctx context.Context, st step) error {
	res := &StepResult{Name: st.name, Endpoint: st.endpoint}
	c.rep.Steps = append(c.rep.Steps, res)
	sfields := st.fields(c.r, c.sside)

	tobs, tfields, err := c.targetAnswer(ctx, st)
	if err != nil {
		return err
	}
	if tobs == nil {
		res.Skipped = "not in the recording"
		res.Request = c.red.Fields(sfields)
		c.rep.Skipped++
		return nil
	}
	resp, err := c.o.Sandbox.Do(ctx, st.endpoint, sfields)
	if err != nil {
		return &NetworkError{Step: st.name, Side: "sandbox", Err: err}
	}
	sobs := observe(resp)
	c.learn(st, tobs, sobs)

	cmp := compareAnswers(tobs, sobs, c.o.Values)
	res.Diffs, res.Notes = cmp.diffs, cmp.notes
	if res.Diffs == nil {
		res.Diffs = []Diff{}
	}
	c.attr.attribute(st, sfields, tobs, sobs, res.Diffs)
	res.Target, res.Sandbox = tobs, sobs
	res.Request = plainFields(sfields)
	if c.rec != nil {
		c.rec.Steps = append(c.rec.Steps, RecordedStep{Name: st.name, Endpoint: st.endpoint, Path: st.endpoint.Path(),
			Request: plainFields(tfields), Status: tobs.Status, ContentType: tobs.ContentType, Body: tobs.Body})
	}
	if res.Same() {
		c.rep.Same++
	} else {
		c.rep.Different++
	}
	return nil
}

// targetAnswer is the target's answer to a step: live, or from the recording (nil,
// without an error, when the recording does not have the step). tfields is the live
// request.
func (c *conversation) targetAnswer(ctx context.Context, st step) (tobs *Observation, tfields url.Values, err error) {
	if c.o.Replay != nil {
		rs, ok := c.o.Replay.step(st.name)
		if !ok {
			return nil, nil, nil
		}
		return &Observation{Status: rs.Status, ContentType: rs.ContentType, Body: rs.Body}, nil, nil
	}
	tfields = st.fields(c.r, c.tside)
	resp, err := c.o.Target.Do(ctx, st.endpoint, tfields)
	if err != nil {
		return nil, nil, &NetworkError{Step: st.name, Side: "target", Err: err}
	}
	return observe(resp), tfields, nil
}

// learn reads both answers: the secrets they issue, what later steps send (the
// step's after), and the order amount from the currency answer.
func (c *conversation) learn(st step, tobs, sobs *Observation) {
	tv, _ := client.DecodeNumbers([]byte(tobs.Body))
	sv, _ := client.DecodeNumbers([]byte(sobs.Body))
	c.red.Learn(tv)
	c.red.Learn(sv)
	if st.after != nil {
		st.after(c.r, c.tside, tv)
		st.after(c.r, c.sside, sv)
	}
	if st.name == "currency" && c.r.amount == "" {
		c.r.amount = minimum(tv, c.r.currency)
		if c.r.amount == "" {
			c.r.amount = minimum(sv, c.r.currency)
		}
		if c.r.amount == "" {
			c.r.amount = defaultAmount
		}
	}
}

// plainFields keeps fields unredacted until finish, which knows every secret of the run
// (a token is learnt only from the answer that issues it).
func plainFields(f url.Values) map[string]string {
	out := make(map[string]string, len(f))
	for k := range f {
		out[k] = f.Get(k)
	}
	return out
}

// finish masks every secret the run learnt in the report and the recording.
func finish(rep *Report, rec *Recording, red *Redactor) *Report {
	redactMap := func(m map[string]string) map[string]string {
		v := url.Values{}
		for k, s := range m {
			v.Set(k, s)
		}
		return red.Fields(v)
	}
	for _, s := range rep.Steps {
		if s.Skipped == "" {
			s.Request = redactMap(s.Request)
		}
		for _, ob := range []*Observation{s.Target, s.Sandbox} {
			if ob != nil {
				ob.Body = red.Text(ob.Body)
			}
		}
		for i := range s.Diffs {
			s.Diffs[i].Target = red.Text(s.Diffs[i].Target)
			s.Diffs[i].Sandbox = red.Text(s.Diffs[i].Sandbox)
		}
	}
	if rec != nil {
		for i := range rec.Steps {
			rec.Steps[i].Request = redactMap(rec.Steps[i].Request)
			rec.Steps[i].Body = red.Text(rec.Steps[i].Body)
		}
		rep.Recording = rec
	}
	if rep.Currency == "" && rec != nil {
		rep.Currency, rep.Amount = rec.Currency, rec.Amount
	}
	return rep
}

func observe(resp *client.Response) *Observation {
	return &Observation{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(resp.Body)}
}

// minimum reads the currency's min from a currency answer, written as the vendor's PHP
// would send it ("420.0000" → "420").
func minimum(v any, currency string) string {
	m, _ := v.(map[string]any)
	rates, _ := m["rate"].([]any)
	for _, e := range rates {
		rate, _ := e.(map[string]any)
		if rate["currency"] != currency {
			continue
		}
		var s string
		switch x := rate["min"].(type) {
		case string:
			s = x
		case fmt.Stringer:
			s = x.String()
		}
		if strings.Contains(s, ".") {
			s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
		}
		if s == "" || s == "0" || strings.HasPrefix(s, "-") || strings.ContainsAny(s, "eE") {
			return ""
		}
		return s
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
