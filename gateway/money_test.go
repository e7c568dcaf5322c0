package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

func TestParseMoney(t *testing.T) {
	valid := []struct {
		in   string
		want gateway.Money
	}{
		{"0", 0}, // a plain decimal; the handlers refuse zero themselves
		{"1", 10000},
		{"25", 250000},
		{"100", 1000000},
		{"300.0000", 3000000},
		{"25.5", 255000},
		{"7.05", 70500},
		{"42.000", 420000},
		{"0.5", 5000},
		{"0.0001", 1},
		{"0.9999", 9999},
		{"1.0001", 10001},
		{"0012.5", 125000}, // leading zeros are still ASCII digits (SPEC §1: plain decimal)
		{"0000.0000", 0},
		{"000000000000000000000001", 10000}, // length alone does not refuse
		{"500000000", 500_000_000 * 10000},  // VND max of the default config
		{"12345678901234.5678", 12345678901234*10000 + 5678},
		{"99999999999999.9999", 99_999_999_999_999*10000 + 9999}, // just below the ceiling
		{"100000000000000", 100_000_000_000_000 * 10000},         // 1e14 units: the ceiling
		{"100000000000000.0000", 100_000_000_000_000 * 10000},
	}
	for _, tc := range valid {
		t.Run("OK/"+tc.in, func(t *testing.T) {
			got, err := gateway.ParseMoney(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	invalid := []string{
		"", ".", "1.", ".5", "-1", "+1", " 1", "1 ", "1e3", "1E3", "0x10", "1,000", "1_000",
		"1.23456", "0.00001", "1..2", "1.2.3", "abc", "NaN", "Inf", "١٢", // Arabic-Indic digits are not ASCII
		"１",                    // full-width digit
		"100000000000001",      // one unit above the ceiling
		"1000000000000000",     // 1e15
		"9223372036854775807",  // int64 max
		"99999999999999999999", // beyond int64
		"1.-1", "1.+1", "1. 5", "\t1", "1\n", "--1", "1-", "$1", "RM1", "1MYR",
	}
	for _, in := range invalid {
		t.Run("Err/"+strings.ReplaceAll(in, "/", "_"), func(t *testing.T) {
			_, err := gateway.ParseMoney(in)
			assert.ErrorIs(t, err, gateway.ErrBadAmount, "ParseMoney(%q)", in)
		})
	}
}

func TestMustMoneyPanicsOnBadLiteral(t *testing.T) {
	assert.Equal(t, gateway.Money(1000000), gateway.MustMoney("100"))
	assert.Panics(t, func() { gateway.MustMoney("1e3") })
}

func TestMoneyFormat(t *testing.T) {
	tests := []struct {
		m      gateway.Money
		places int
		want   string
	}{
		{gateway.MustMoney("300"), 4, "300.0000"},
		{gateway.MustMoney("9"), 4, "9.0000"},
		{gateway.MustMoney("5"), 2, "5.00"}, // the vendor's payout fee
		{gateway.MustMoney("5"), 0, "5"},
		{gateway.MustMoney("0.0001"), 4, "0.0001"},
		{gateway.MustMoney("25.5"), 1, "25.5"},
		{gateway.MustMoney("25.5"), 2, "25.50"},
		{0, 4, "0.0000"},
		{0, 0, "0"},
		{-gateway.MustMoney("105"), 4, "-105.0000"}, // ledger deltas are negative
		{-gateway.MustMoney("0.5"), 4, "-0.5000"},
		{-1, 4, "-0.0001"},
		{gateway.MustMoney("100000000000000"), 4, "100000000000000.0000"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.m.Format(tc.places), "Format(%d) of %d", tc.places, int64(tc.m))
	}
	assert.Equal(t, "300.0000", gateway.MustMoney("300").String())
	assert.Equal(t, "12.5000", gateway.MustMoney("0012.5").String())
}

func TestMoneyJSON(t *testing.T) {
	// The vendor writes amounts as JSON numbers with four decimals: "amount": 300.0000
	// (Number); the sandbox's own answers write exact decimal strings (Money).
	b, err := json.Marshal(struct {
		Amount gateway.Number `json:"amount"`
		Fee    gateway.Number `json:"fee"`
		Delta  gateway.Number `json:"delta"`
	}{gateway.Number(gateway.MustMoney("300")), gateway.Number(gateway.MustMoney("0.05")), gateway.Number(-gateway.MustMoney("105"))})
	require.NoError(t, err)
	assert.Equal(t, `{"amount":300.0000,"fee":0.0500,"delta":-105.0000}`, string(b))
	b, err = json.Marshal(struct {
		Amount gateway.Money `json:"amount"`
		Delta  gateway.Money `json:"delta"`
	}{gateway.MustMoney("300"), -gateway.MustMoney("105")})
	require.NoError(t, err)
	assert.Equal(t, `{"amount":"300.0000","delta":"-105.0000"}`, string(b))
	var n gateway.Number
	require.NoError(t, json.Unmarshal([]byte(`25.5`), &n))
	assert.Equal(t, gateway.MustMoney("25.5"), n.Money())

	text, err := gateway.MustMoney("1.5").MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "1.5000", string(text))

	for in, want := range map[string]gateway.Money{
		`300.0000`: gateway.MustMoney("300"), `"25.5"`: gateway.MustMoney("25.5"), `1`: gateway.MustMoney("1"),
		`-105.0000`: -gateway.MustMoney("105"), `"-0.0001"`: -1,
	} {
		var m gateway.Money
		require.NoError(t, json.Unmarshal([]byte(in), &m), in)
		assert.Equal(t, want, m, in)
	}
	for _, in := range []string{`1e3`, `"1.23456"`, `null`, `"--1"`, `true`, `"abc"`} {
		var m gateway.Money
		assert.Error(t, json.Unmarshal([]byte(in), &m), in)
	}

	var m gateway.Money
	require.NoError(t, m.UnmarshalText([]byte("42")))
	assert.Equal(t, gateway.MustMoney("42"), m)
	assert.Error(t, m.UnmarshalText([]byte("4 2")))
}

func TestMoneyPercent(t *testing.T) {
	tests := []struct{ amount, pct, want string }{
		{"300", "3", "9.0000"}, // the vendor's callback: amount 300.0000, charge "9.0000"
		{"100", "3", "3.0000"},
		{"25", "3", "0.7500"},
		{"1", "3", "0.0300"},
		{"0.0050", "1", "0.0001"},           // 0.00005 rounds half up
		{"0.0049", "1", "0.0000"},           // 0.000049 rounds down
		{"0.0150", "1", "0.0002"},           // 0.00015 rounds half up, not to even
		{"0.0001", "50", "0.0001"},          // 0.00005 rounds half up
		{"0.0001", "49.9999", "0.0000"},     // just below half
		{"33.3333", "3", "1.0000"},          // 0.999999 rounds up
		{"123.4567", "2.5", "3.0864"},       // 3.0864175 rounds down
		{"100", "0", "0.0000"},              // no charge
		{"100", "100", "100.0000"},          // everything
		{"500000000", "3", "15000000.0000"}, // the VND maximum: no overflow
		{"100000000000000", "100", "100000000000000.0000"},
	}
	for _, tc := range tests {
		got := gateway.MustMoney(tc.amount).Percent(gateway.MustMoney(tc.pct))
		assert.Equal(t, tc.want, got.String(), "%s at %s%%", tc.amount, tc.pct)
	}
}

func TestToken(t *testing.T) {
	// Known values computed outside Go:
	//   printf '%s' 'vpay88-test-secretExample_123' | md5sum
	//   printf '%s' 'vpay88-test-secret20073' | md5sum
	assert.Equal(t, "4765966e7fa3e8864e687912fe98726d", gateway.Token("vpay88-test-secret", "Example_123"))
	assert.Equal(t, "4470075413df0c058e5fd1fee4abfef5", gateway.Token("vpay88-test-secret", "20073"))
	assert.Equal(t, "d41d8cd98f00b204e9800998ecf8427e", gateway.Token("", ""))
	// The order of concatenation matters: secret first, then the order id.
	assert.NotEqual(t, gateway.Token("a", "b"+"c"), gateway.Token("c", "ab"))
}

func TestValidEmail(t *testing.T) {
	good := []string{"john@example.com", "a.b+c@mail.example.co.uk", "JOHN@EXAMPLE.COM", "x@y.z", "success@example.com"}
	bad := []string{
		"", "john", "john@", "@example.com", "john@example", "john@.example.com", "john@example.com.",
		"john doe@example.com", " john@example.com", "john@example.com ", "John <john@example.com>",
		"<john@example.com>", "john@@example.com", "john@exa mple.com", "john@example.com\n",
		"[email protected]", "[email\u00a0protected]", // the vendor document's example after its web page hid the address
	}
	for _, s := range good {
		assert.True(t, gateway.ValidEmail(s), "%q should be valid", s)
	}
	for _, s := range bad {
		assert.False(t, gateway.ValidEmail(s), "%q should be refused", s)
	}
}

// FuzzParseMoney checks that whatever ParseMoney accepts writes back, through String,
// to a form that parses to the same amount, and that it never accepts a sign, an
// exponent or a space.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "1", "25.5", "300.0000", "0012.5", "1e3", "-1", " 1", "1.23456", "1.", ".5",
		"100000000000000", "100000000000001", "99999999999999999999", "0.0001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := gateway.ParseMoney(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(s, "+-eE \t\r\n,_") {
			t.Fatalf("ParseMoney(%q) = %d, want an error", s, int64(m))
		}
		if m < 0 {
			t.Fatalf("ParseMoney(%q) = %d is negative", s, int64(m))
		}
		back, err := gateway.ParseMoney(m.String())
		if err != nil {
			t.Fatalf("ParseMoney(%q).String() = %q does not parse: %v", s, m.String(), err)
		}
		if back != m {
			t.Fatalf("round trip of %q: %d then %q then %d", s, int64(m), m.String(), int64(back))
		}
		b, _ := m.MarshalJSON()
		var j gateway.Money
		if err := json.Unmarshal(b, &j); err != nil || j != m {
			t.Fatalf("JSON round trip of %q: %s gives %d, %v", s, b, int64(j), err)
		}
	})
}

func TestMoneyPlain(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "100": "100", "100.5": "100.5", "0.0001": "0.0001", "25.50": "25.5", "0": "0", "10.1000": "10.1"} {
		assert.Equal(t, want, gateway.MustMoney(in).Plain(), in)
		b, err := json.Marshal(gateway.PlainMoney(gateway.MustMoney(in)))
		require.NoError(t, err)
		assert.Equal(t, want, string(b), in)
	}
}
