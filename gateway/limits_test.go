package gateway_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

func TestCheckField(t *testing.T) {
	cases := []struct {
		field, value string
		want         error
	}{
		{"orderid", "Example_123", nil},
		{"orderid", "", nil}, // "Params missing." is the endpoint's own check
		{"orderid", "INV/2024/001 #?%", nil},
		{"orderid", "订单-1", nil},
		{"orderid", strings.Repeat("x", 128), nil},
		{"orderid", strings.Repeat("x", 129), gateway.ErrFieldTooLong},
		{"orderid", strings.Repeat("订", 43), gateway.ErrFieldTooLong}, // 129 bytes, 43 runes: limits are bytes
		{"id", strings.Repeat("x", 40000), gateway.ErrFieldTooLong},
		{"username", strings.Repeat("j", 255), nil},
		{"username", strings.Repeat("j", 256), gateway.ErrFieldTooLong},
		{"email", strings.Repeat("a", 242) + "@example.com", nil},
		{"email", strings.Repeat("a", 243) + "@example.com", gateway.ErrFieldTooLong},
		{"redirect_url", "https://shop.example/" + strings.Repeat("p", 2027), nil},
		{"redirect_url", "https://shop.example/" + strings.Repeat("p", 2028), gateway.ErrFieldTooLong},
		{"auth", strings.Repeat("A", 65), gateway.ErrFieldTooLong},
		{"currency", "MYRMYRMYR", gateway.ErrFieldTooLong},
		{"holder_name", "SUK THAWAR", nil},
		{"holder_name", "Zoë Ångström", nil},
		{"holder_name", "John\tDoe", gateway.ErrFieldControl},
		{"holder_name", "John\nDoe", gateway.ErrFieldControl},
		{"account_no", "123\x00", gateway.ErrFieldControl},
		{"bank_branch", "Kentucky\x7f", gateway.ErrFieldControl},
		{"bank_branch", "Kentucky\u0085", gateway.ErrFieldControl}, // C1 NEL
		{"phone_number", "60\xff12", gateway.ErrFieldNotUTF8},
		{"orderid", "\xc3", gateway.ErrFieldNotUTF8}, // a truncated two-byte sequence
		{"unknown_field", strings.Repeat("x", 5000), nil},
		{"unknown_field", "\x01", gateway.ErrFieldControl},
	}
	for _, c := range cases {
		err := gateway.CheckField(c.field, c.value)
		if c.want == nil {
			assert.NoError(t, err, "%s %.40q", c.field, c.value)
			continue
		}
		assert.True(t, errors.Is(err, c.want), "%s %.40q: got %v, want %v", c.field, c.value, err, c.want)
	}
}

func TestFieldLimitsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range gateway.FieldLimits() {
		assert.False(t, seen[l.Field], "%s listed twice", l.Field)
		seen[l.Field] = true
		assert.Positive(t, l.MaxBytes, l.Field)
		assert.Equal(t, l.MaxBytes, gateway.MaxFieldBytes(l.Field))
		// Every limit stays far below bbolt's 32 KiB key limit and the journal's cut.
		assert.LessOrEqual(t, l.MaxBytes, 2048, l.Field)
	}
	assert.Zero(t, gateway.MaxFieldBytes("no_such_field"))
	// Every field a vendor endpoint reads has a limit.
	for _, f := range []string{"orderid", "id", "username", "api_key", "auth", "amount", "currency", "email",
		"phone_number", "mode", "redirect_url", "bank_id", "holder_name", "account_no", "bank_branch"} {
		assert.True(t, seen[f], "%s has no limit", f)
	}
}

func TestMoneyPlaces(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "5": 0, "5.00": 0, "2.5": 1, "2.50": 1, "2.51": 2, "2.509": 3,
		"2.5099": 4, "49999.9999": 4, "0.0001": 4, "100.1000": 1} {
		assert.Equal(t, want, gateway.MustMoney(in).Places(), in)
	}
	assert.Equal(t, 4, (-gateway.MustMoney("1.0001")).Places())
}

func TestMoneyExact(t *testing.T) {
	cases := []struct {
		in   string
		min  int
		want string
	}{
		{"100", 2, "100.00"},
		{"2.5", 2, "2.50"},
		{"2.5099", 2, "2.5099"},
		{"49999.9999", 2, "49999.9999"},
		{"49999.999", 2, "49999.999"},
		{"0.0001", 2, "0.0001"},
		{"1", 0, "1"},
		{"1.5", 0, "1.5"},
		{"300", 4, "300.0000"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, gateway.MustMoney(c.in).Exact(c.min), "%s Exact(%d)", c.in, c.min)
	}
	assert.Equal(t, "-2.5099", (-gateway.MustMoney("2.5099")).Exact(2))
	// Exact never shows less than what is booked, where Format(2) drops digits.
	assert.Equal(t, "49999.99", gateway.MustMoney("49999.9999").Format(2))
}
