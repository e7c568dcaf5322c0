package scenarios

import (
	"fmt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Bounds of a rule list, from the config file or PUT /sandbox/api/scenarios alike
// (README, guessed behaviours). A QA team's list holds tens of rules; these leave room
// for generated lists while keeping what one list can cost the shared instance small:
// at most MaxRules rules of at most a few KiB each, and an order tries only the rules
// of its kind, currency and merchant (Index).
const (
	// MaxRules is the most rules a list may hold.
	MaxRules = 1000
	// MaxRuleNameBytes bounds a rule's name.
	MaxRuleNameBytes = 128
	// MaxPatternBytes bounds each regular expression of a match.
	MaxPatternBytes = 512
)

// textLimits are the bounds of a rule's other text fields, as the request fields they
// stand for are bounded (gateway.FieldLimits): a matched merchant is a username, a
// currency a currency, a payer name a name, remarks a payout's remarks; an error is a
// vendor message (gateway.MaxMessageBytes).
var textLimits = []struct {
	path string
	max  int
	get  func(*Rule) string
}{
	{"name", MaxRuleNameBytes, func(r *Rule) string { return r.Name }},
	{"match.currency", gateway.MaxFieldBytes("currency"), func(r *Rule) string { return r.Match.Currency }},
	{"match.merchant", gateway.MaxFieldBytes("username"), func(r *Rule) string { return r.Match.Merchant }},
	{"match.orderid", MaxPatternBytes, func(r *Rule) string { return r.Match.OrderID }},
	{"match.email", MaxPatternBytes, func(r *Rule) string { return r.Match.Email }},
	{"match.holder_name", MaxPatternBytes, func(r *Rule) string { return r.Match.HolderName }},
	{"match.account_no", MaxPatternBytes, func(r *Rule) string { return r.Match.AccountNo }},
	{"effect.remarks", gateway.MaxFieldBytes("remarks"), func(r *Rule) string { return r.Effect.Remarks }},
	{"effect.name", gateway.MaxFieldBytes("name"), func(r *Rule) string { return r.Effect.Name }},
	{"effect.error", gateway.MaxMessageBytes, func(r *Rule) string { return r.Effect.Error }},
}

// checkLimits refuses a list past its bounds, before any rule is compiled.
func checkLimits(rules []Rule) error {
	if len(rules) > MaxRules {
		return &FieldError{Path: "scenarios", Msg: fmt.Sprintf("%d rules: at most %d are allowed (limit: scenario rules)", len(rules), MaxRules)}
	}
	for i := range rules {
		for _, l := range textLimits {
			if v := l.get(&rules[i]); len(v) > l.max {
				return &FieldError{Path: fmt.Sprintf("scenarios[%d].%s", i, l.path),
					Msg: fmt.Sprintf("%d bytes: at most %d are allowed", len(v), l.max)}
			}
		}
	}
	return nil
}
