// Package scenarios decides how an order ends: magic values that need no
// configuration, and YAML rules from the config file. It is pure: (order, rules) →
// decision, with no I/O, so every rule is table-tested.
package scenarios

import (
	"maps"
	"regexp"
	"slices"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Rule is one scenario rule: when Match fits an incoming order, Effect applies.
// Rules are tried in order; the first that matches wins.
type Rule struct {
	Name   string `yaml:"name,omitempty" json:"name"`
	Match  Match  `yaml:"match,omitempty" json:"match"`
	Effect Effect `yaml:"effect,omitempty" json:"effect"`
}

// Match selects orders. Empty fields match anything; patterns are Go regular
// expressions (RE2), unanchored unless written with ^ and $.
type Match struct {
	Kind       gateway.Kind   `yaml:"kind,omitempty" json:"kind,omitempty"`
	Currency   string         `yaml:"currency,omitempty" json:"currency,omitempty"`
	Amount     *gateway.Money `yaml:"amount,omitempty" json:"amount,omitempty"`
	AmountMin  *gateway.Money `yaml:"amount_min,omitempty" json:"amount_min,omitempty"`
	AmountMax  *gateway.Money `yaml:"amount_max,omitempty" json:"amount_max,omitempty"`
	OrderID    string         `yaml:"orderid,omitempty" json:"orderid,omitempty"`
	Email      string         `yaml:"email,omitempty" json:"email,omitempty"`
	HolderName string         `yaml:"holder_name,omitempty" json:"holder_name,omitempty"`
	AccountNo  string         `yaml:"account_no,omitempty" json:"account_no,omitempty"`
	Merchant   string         `yaml:"merchant,omitempty" json:"merchant,omitempty"`

	re map[string]*regexp.Regexp
}

// Effect is what a matching rule does.
type Effect struct {
	// Outcome: completed, fail, name_mismatch, insufficient_balance, rejected or pending.
	Outcome gateway.OutcomeKind `yaml:"outcome,omitempty" json:"outcome,omitempty"`
	// Delay before the outcome applies (0: at once).
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	// ReverseAfter reverses the order this long after it settles: a completed order
	// then fails and a failed one completes, with a second callback (docs/fidelity.md, observed).
	ReverseAfter Duration `yaml:"reverse_after,omitempty" json:"reverse_after,omitempty"`
	// Remarks, Name and Charge override the settlement's remarks, payer name and charge.
	Remarks string         `yaml:"remarks,omitempty" json:"remarks,omitempty"`
	Name    string         `yaml:"name,omitempty" json:"name,omitempty"`
	Charge  *gateway.Money `yaml:"charge,omitempty" json:"charge,omitempty"`
	// PaidAmount makes a completed deposit paid with another amount: absolute
	// ("250") or a percentage of the order's ("90%"). The callback carries it, the
	// ledger credits it minus its charge, check_status answers it (docs/fidelity.md, family).
	PaidAmount *gateway.PaidSpec `yaml:"paid_amount,omitempty" json:"paid_amount,omitempty"`
	// Error forces the API to refuse the request with this message; nothing is stored.
	Error string `yaml:"error,omitempty" json:"error,omitempty"`
	// Latency is added to the API response.
	Latency Duration `yaml:"latency,omitempty" json:"latency,omitempty"`
	// Callback faults.
	Callback Faults `yaml:"callback,omitempty" json:"callback"`
	// Fault is done to the matched request itself (gateway.FaultSpec): a status page,
	// a hang, a reset, a lost answer… A message fault is the same as Error.
	Fault *gateway.FaultSpec `yaml:"fault,omitempty" json:"fault,omitempty"`
	// Maintenance opens a maintenance window when a request matches: it is refused,
	// and so is every request to the window's endpoints until it ends.
	Maintenance *Maintenance `yaml:"maintenance,omitempty" json:"maintenance,omitempty"`
}

// Maintenance is a window in which endpoints refuse: withdraw_orders with
// "Bank Maintenance.", the others with a 503 page. It ends by the sandbox clock.
type Maintenance = gateway.Maintenance

// Faults alter the delivery of a matched order's callback; the type lives in gateway
// because an order carries its faults until it settles.
type Faults = gateway.CallbackFaults

// Duration is a time.Duration written as "1.5s" or "2m" in YAML and JSON.
type Duration = gateway.Duration

// Clone returns a copy of r that shares nothing a caller could change with r: the
// amounts, the charge, the fault and the maintenance window are copied. The compiled
// patterns are shared, since a *regexp.Regexp is safe for concurrent use and never
// changes; the map holding them is copied, so the copy matches as r does without
// another Validate.
func (r Rule) Clone() Rule {
	m := &r.Match
	m.Amount, m.AmountMin, m.AmountMax = clonePtr(m.Amount), clonePtr(m.AmountMin), clonePtr(m.AmountMax)
	m.re = maps.Clone(m.re)
	e := &r.Effect
	e.Charge, e.Fault, e.PaidAmount = clonePtr(e.Charge), clonePtr(e.Fault), clonePtr(e.PaidAmount)
	if e.Maintenance != nil {
		w := *e.Maintenance
		w.Endpoints = slices.Clone(w.Endpoints)
		e.Maintenance = &w
	}
	return r
}

// CloneRules clones each rule (Rule.Clone); nil stays nil.
func CloneRules(rules []Rule) []Rule {
	if rules == nil {
		return nil
	}
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = r.Clone()
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
