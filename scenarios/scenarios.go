package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Outcomes a rule or a magic value can ask for (gateway.OutcomeKind).
const (
	OutcomeCompleted           = gateway.OutcomeCompleted
	OutcomeFail                = gateway.OutcomeFail
	OutcomeNameMismatch        = gateway.OutcomeNameMismatch
	OutcomeInsufficientBalance = gateway.OutcomeInsufficientBalance
	OutcomeRejected            = gateway.OutcomeRejected
	OutcomePending             = gateway.OutcomePending
)

// Magic values: they need no configuration, like a card network's test cards.
// Deposits key on the email's local part, withdrawals on the account number.
const (
	MagicEmailSuccess = "success"
	MagicEmailFail    = "fail"
	MagicEmailPending = "pending"

	MagicAccountSuccess      = "4000000001"
	MagicAccountFail         = "4000000002"
	MagicAccountNameMismatch = "4000000003"
	MagicAccountNoBalance    = "4000000004"
	// MagicAccountBankMaintenance refuses the payout with "Bank Maintenance." (docs/fidelity.md, observed).
	MagicAccountBankMaintenance = "4000000005"
	MagicAccountPending         = "4000000009"
)

// Decision is what the scenarios say about one incoming order; gateway.Plan turns it
// into the order's scheduled settlement.
type Decision = gateway.Decision

// Validate checks and compiles rules in place; the error names the rule and the field
// (e.g. `scenarios[2].match.orderid`), so a config loader can point at the line.
func Validate(rules []Rule) error {
	if err := checkLimits(rules); err != nil {
		return err
	}
	for i := range rules {
		r := &rules[i]
		at := func(field string) string { return fmt.Sprintf("scenarios[%d].%s", i, field) }
		m := &r.Match
		if m.Kind != "" && !slices.Contains(gateway.Kinds(), m.Kind) {
			return &FieldError{Path: at("match.kind"), Msg: fmt.Sprintf("kind %q is not %s", m.Kind, gateway.OneOf(gateway.Kinds()))}
		}
		if m.Amount != nil && (m.AmountMin != nil || m.AmountMax != nil) {
			return &FieldError{Path: at("match.amount"), Msg: "amount cannot be combined with amount_min/amount_max"}
		}
		if m.AmountMin != nil && m.AmountMax != nil && *m.AmountMin > *m.AmountMax {
			return &FieldError{Path: at("match.amount_min"), Msg: "amount_min is above amount_max"}
		}
		m.re = map[string]*regexp.Regexp{}
		for field, pat := range map[string]string{"orderid": m.OrderID, "email": m.Email, "holder_name": m.HolderName, "account_no": m.AccountNo} {
			if pat == "" {
				continue
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				return &FieldError{Path: at("match." + field), Msg: "bad pattern: " + err.Error()}
			}
			m.re[field] = re
		}
		e := &r.Effect
		if e.Outcome != "" && !e.Outcome.Valid() {
			return &FieldError{Path: at("effect.outcome"), Msg: fmt.Sprintf("outcome %q is not one of %s", e.Outcome, gateway.OneOf(gateway.Outcomes()))}
		}
		if e.Outcome.PayoutOnly() && m.Kind != gateway.KindWithdrawal {
			return &FieldError{Path: at("effect.outcome"), Msg: string(e.Outcome) + " applies to withdrawals only: set match.kind: withdrawal"}
		}
		// A charge that can reach a payout is printed with two places in its callback
		// ("5.00"); a finer one would be spent in the ledger and reported rounded.
		if e.Charge != nil && m.Kind != gateway.KindDeposit && e.Charge.Places() > 2 {
			return &FieldError{Path: at("effect.charge"), Msg: fmt.Sprintf("charge %s has more than two decimals, which a withdrawal callback cannot carry (it writes \"5.00\"); set match.kind: deposit for a four-decimal deposit charge", *e.Charge)}
		}
		// What a customer paid is known when the deposit completes: the rule says so.
		if e.PaidAmount != nil && (m.Kind != gateway.KindDeposit || e.Outcome != gateway.OutcomeCompleted) {
			return &FieldError{Path: at("effect.paid_amount"), Msg: "paid_amount applies to completed deposits: set match.kind: deposit and effect.outcome: completed"}
		}
		if e.Callback.Duplicate < 0 || e.Callback.Duplicate > 10 {
			return &FieldError{Path: at("effect.callback.duplicate"), Msg: "duplicate must be between 0 and 10"}
		}
		if err := validateFaults(e, at); err != nil {
			return err
		}
		if e.Outcome == "" && e.Error == "" && e.Latency == 0 && e.Callback == (Faults{}) && e.Remarks == "" && e.Name == "" && e.Charge == nil && e.PaidAmount == nil && e.ReverseAfter == 0 && e.Fault == nil && e.Maintenance == nil {
			return &FieldError{Path: at("effect"), Msg: "the rule has no effect"}
		}
	}
	return nil
}

// validateFaults checks a rule's request fault and maintenance window, and turns a
// message fault into the rule's Error: one way to refuse.
func validateFaults(e *Effect, at func(string) string) error {
	if e.Fault != nil {
		if err := e.Fault.Normalize(); err != nil {
			return &FieldError{Path: at("effect.fault"), Msg: err.Error()}
		}
		if e.Fault.Kind == gateway.FaultMaintenance {
			return &FieldError{Path: at("effect.fault"), Msg: "a maintenance window is effect.maintenance, not a fault kind"}
		}
		if e.Fault.Kind == gateway.FaultMessage {
			if e.Error != "" && e.Error != e.Fault.Message {
				return &FieldError{Path: at("effect.fault"), Msg: "error and a message fault say two things: keep one"}
			}
			e.Error, e.Fault = e.Fault.Message, nil
		}
	}
	if e.Maintenance != nil {
		if err := e.Maintenance.Normalize(); err != nil {
			return &FieldError{Path: at("effect.maintenance"), Msg: err.Error()}
		}
	}
	return nil
}

// FieldError is a validation error tied to a path in the config document.
type FieldError struct {
	Path string
	Msg  string
}

// Error names the path and the reason.
func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Decide returns what the rules, then the magic values, say about order o, trying
// every rule in turn; Index.Decide gives the same answer trying only the rules that
// can match. Rules must have passed Validate.
func Decide(o *gateway.Order, rules []Rule) Decision {
	for i := range rules {
		if rules[i].Match.matches(o) {
			return decision(rules, i)
		}
	}
	return magic(o)
}

// decision is what rule i says.
func decision(rules []Rule, i int) Decision {
	e := rules[i].Effect
	name := rules[i].Name
	if name == "" {
		name = fmt.Sprintf("rule %d", i+1)
	}
	return Decision{
		Source: name, Error: e.Error, Latency: time.Duration(e.Latency),
		Outcome: e.Outcome, Delay: time.Duration(e.Delay), Remarks: e.Remarks,
		Name: e.Name, Charge: e.Charge, Paid: e.PaidAmount, Faults: e.Callback, ReverseAfter: time.Duration(e.ReverseAfter),
		Fault: e.Fault, Maintenance: e.Maintenance,
	}
}

func magic(o *gateway.Order) Decision {
	if o.Kind == gateway.KindDeposit {
		local, _, _ := strings.Cut(strings.ToLower(o.Email), "@")
		switch local {
		case MagicEmailSuccess:
			return Decision{Source: "magic:email " + local, Outcome: OutcomeCompleted}
		case MagicEmailFail:
			return Decision{Source: "magic:email " + local, Outcome: OutcomeFail}
		case MagicEmailPending:
			return Decision{Source: "magic:email " + local, Outcome: OutcomePending}
		}
		return Decision{}
	}
	src := "magic:account_no " + o.AccountNo
	switch o.AccountNo {
	case MagicAccountSuccess:
		return Decision{Source: src, Outcome: OutcomeCompleted}
	case MagicAccountFail:
		return Decision{Source: src, Outcome: OutcomeFail}
	case MagicAccountNameMismatch:
		return Decision{Source: src, Outcome: OutcomeNameMismatch}
	case MagicAccountNoBalance:
		return Decision{Source: src, Outcome: OutcomeInsufficientBalance}
	case MagicAccountBankMaintenance:
		return Decision{Source: src, Error: gateway.MsgBankMaintenance}
	case MagicAccountPending:
		return Decision{Source: src, Outcome: OutcomePending}
	}
	return Decision{}
}

func (m *Match) matches(o *gateway.Order) bool {
	if m.Kind != "" && m.Kind != o.Kind {
		return false
	}
	if m.Merchant != "" && m.Merchant != o.Merchant {
		return false
	}
	if m.Currency != "" && !strings.EqualFold(m.Currency, o.Currency) {
		return false
	}
	if m.Amount != nil && *m.Amount != o.Amount {
		return false
	}
	if m.AmountMin != nil && o.Amount < *m.AmountMin {
		return false
	}
	if m.AmountMax != nil && o.Amount > *m.AmountMax {
		return false
	}
	if len(m.re) == 0 {
		return true
	}
	// A fixed list, not a map literal: this runs for every candidate rule of every order.
	for _, f := range [...]struct{ field, v string }{{"orderid", o.OrderID}, {"email", o.Email}, {"holder_name", o.HolderName}, {"account_no", o.AccountNo}} {
		if re := m.re[f.field]; re != nil && !re.MatchString(f.v) {
			return false
		}
	}
	return true
}
