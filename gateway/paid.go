package gateway

import (
	"fmt"
	"strings"
)

// PaidSpec is what a customer pays instead of a deposit's amount (docs/fidelity.md, family: a deposit
// callback's amount can differ from the ordered amount, and one integration credits
// the callback's): an amount ("250", "250.50"), or a percentage of the order's
// ("90%", "120%"). A scenario effect, a checkout field and an admin settle field.
type PaidSpec struct {
	Amount  Money
	Percent bool
}

// maxPaidPercent bounds a percentage paid_amount (a customer who pays ten times the
// order is far past any test of overpayment).
var maxPaidPercent = MustMoney("1000")

// ParsePaid reads a paid_amount: a plain positive decimal (at most four places), or
// one followed by "%" (at most 1000 %).
func ParsePaid(s string) (PaidSpec, error) {
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	m, err := ParseMoney(num)
	if err != nil || m <= 0 {
		return PaidSpec{}, fmt.Errorf("paid_amount must be a positive amount (250.50) or a percentage of the order's (90%%), not %.32q", s)
	}
	if pct && m > maxPaidPercent {
		return PaidSpec{}, fmt.Errorf("paid_amount is at most 1000%% of the order's amount, not %s", s)
	}
	return PaidSpec{Amount: m, Percent: pct}, nil
}

// Of is the amount paid for an order of amount: the percentage of it, rounded half up
// to four places, or the absolute amount.
func (p PaidSpec) Of(amount Money) Money {
	if p.Percent {
		return amount.Percent(p.Amount)
	}
	return p.Amount
}

// String writes the spec as ParsePaid reads it.
func (p PaidSpec) String() string {
	if p.Percent {
		return p.Amount.Plain() + "%"
	}
	return p.Amount.Plain()
}

// MarshalText writes the spec for JSON and YAML.
func (p PaidSpec) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads the spec (ParsePaid).
func (p *PaidSpec) UnmarshalText(b []byte) error {
	v, err := ParsePaid(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
