// Package gateway is the Vpay88 domain: money, merchants, orders, callbacks and the
// vendor's exact messages. It depends on the standard library only, so the store,
// the scenarios, the client and the server all speak the same types.
package gateway

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// Money is an exact amount in ten-thousandths of a currency unit. The vendor writes
// every amount with four decimals ("300.0000"), so four places is the precision the
// gateway itself keeps; an int64 holds ±922 trillion units, enough for IDR and VND.
type Money int64

// moneyScale is 10^4: one unit is 10000 ten-thousandths.
const moneyScale = 10000

// maxUnits bounds parsed amounts so that sums of amounts and fees never overflow.
const maxUnits = 100_000_000_000_000 // 1e14 units

// ErrBadAmount is returned by ParseMoney for anything but a plain non-negative decimal.
var ErrBadAmount = errors.New("gateway: amount is not a plain decimal with at most four places")

// ParseMoney reads a plain decimal: ASCII digits, optionally a point followed by at
// most four digits ("100", "25.5", "300.0000"). Signs, exponents, spaces, thousands
// separators and more than four decimals are refused: that is the strictest reading of
// the vendor's "付款数额" and keeps float artefacts such as "1e3" out.
func ParseMoney(s string) (Money, error) {
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if intPart == "" || len(frac) > 4 || (hasPoint && frac == "") {
		return 0, ErrBadAmount
	}
	if !allDigits(intPart) || !allDigits(frac) {
		return 0, ErrBadAmount
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 15 {
		return 0, ErrBadAmount
	}
	var units int64
	if intPart != "" {
		n, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil {
			return 0, ErrBadAmount
		}
		units = n
	}
	if units > maxUnits {
		return 0, ErrBadAmount
	}
	var f int64
	if frac != "" {
		n, _ := strconv.ParseInt(frac+strings.Repeat("0", 4-len(frac)), 10, 64)
		f = n
	}
	return Money(units*moneyScale + f), nil
}

// MustMoney is ParseMoney for constants in code and tests; it panics on a bad literal.
func MustMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic("gateway.MustMoney(" + strconv.Quote(s) + "): " + err.Error())
	}
	return m
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String writes the amount with four decimals, the vendor's format ("300.0000").
func (m Money) String() string { return m.Format(4) }

// Format writes the amount with the given number of decimals (0 to 4) and drops the
// places beyond them: a caller that asks for fewer than four must know the value has
// none there (the vendor's payout fee "5.00", which config and rules keep to two
// places). Text for people uses Exact, which never drops a digit.
func (m Money) Format(places int) string {
	neg := m < 0
	u := int64(m)
	if neg {
		u = -u
	}
	whole := strconv.FormatInt(u/moneyScale, 10)
	frac := strconv.FormatInt(u%moneyScale+moneyScale, 10)[1:] // zero-padded to 4
	s := whole
	if places > 0 {
		s += "." + frac[:places]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Places is the number of decimals the amount needs (0 to 4): 5 has none, 2.5 one,
// 49999.9999 four.
func (m Money) Places() int {
	u := int64(m)
	if u < 0 {
		u = -u
	}
	frac := u % moneyScale
	if frac == 0 {
		return 0
	}
	n := 4
	for frac%10 == 0 {
		frac /= 10
		n--
	}
	return n
}

// Exact writes the amount with at least min decimals and as many more as it needs, so
// the text shown is the amount booked: Exact(2) gives "100.00", "2.50", "49999.9999"
// where Format(2) would print 49999.99 for an order of 49999.9999.
func (m Money) Exact(min int) string {
	return m.Format(max(min, m.Places()))
}

// MarshalJSON writes the amount as an exact decimal string ("300.0000"): the sandbox's
// own answers (admin API, stored records) must not depend on how a reader parses
// numbers (a browser's JSON.parse turns 300.0000 into 300 and 0.1 + 0.2 into
// 0.30000000000000004). The vendor's answers write numbers: they use Number.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(`"` + m.String() + `"`), nil }

// UnmarshalJSON accepts a JSON number or string with at most four decimals.
func (m *Money) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	neg := strings.HasPrefix(s, "-")
	v, err := ParseMoney(strings.TrimPrefix(s, "-"))
	if err != nil {
		return err
	}
	if neg {
		v = -v
	}
	*m = v
	return nil
}

// MarshalText writes the four-decimal form, for YAML and map keys.
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads a plain decimal, so a YAML config can say `min: 1` or `min: "1.50"`.
func (m *Money) UnmarshalText(b []byte) error { return m.UnmarshalJSON(b) }

// Percent returns m × pct / 100, rounded half up to four places; pct is itself a
// Money (3% is MustMoney("3")). The vendor's example: 300 at 3% is "9.0000".
func (m Money) Percent(pct Money) Money {
	p := new(big.Int).Mul(big.NewInt(int64(m)), big.NewInt(int64(pct)))
	den := big.NewInt(100 * moneyScale)
	q, r := new(big.Int).QuoRem(p, den, new(big.Int))
	if new(big.Int).Mul(r, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return Money(q.Int64())
}

// Number is a Money that marshals as a JSON number with four decimals, as the
// vendor's answers print amounts (`"amount": 300.0000`); encoding/json keeps the
// literal as it is.
type Number Money

// MarshalJSON writes the four-decimal number.
func (n Number) MarshalJSON() ([]byte, error) { return []byte(Money(n).String()), nil }

// UnmarshalJSON accepts what Money accepts.
func (n *Number) UnmarshalJSON(b []byte) error { return (*Money)(n).UnmarshalJSON(b) }

// Money returns the amount as a Money.
func (n Number) Money() Money { return Money(n) }

// String writes the four-decimal form.
func (n Number) String() string { return Money(n).String() }

// Plain writes the amount with as few decimals as it needs ("1", "100.5"): the vendor's
// payout callbacks print "amount": 1 where every other answer prints four places.
func (m Money) Plain() string {
	s := m.String()
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// PlainMoney is a Money that marshals to JSON with as few decimals as it needs.
type PlainMoney Money

// MarshalJSON writes the plain form as a JSON number.
func (m PlainMoney) MarshalJSON() ([]byte, error) { return []byte(Money(m).Plain()), nil }

// UnmarshalJSON accepts what Money accepts.
func (m *PlainMoney) UnmarshalJSON(b []byte) error { return (*Money)(m).UnmarshalJSON(b) }
