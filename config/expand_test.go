package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/scenarios"
)

// aliasBomb is finding 1 of issue 18: one rule, repeated n times by alias.
func aliasBomb(n int) []byte {
	var b strings.Builder
	b.WriteString("- &r {name: x, match: {kind: deposit, orderid: '^X-'}, effect: {outcome: completed}}\n")
	for i := 1; i < n; i++ {
		b.WriteString("- *r\n")
	}
	return []byte(b.String())
}

// nestedBomb is the billion laughs in a rule's maintenance endpoints: each level
// repeats the one before ten times.
func nestedBomb() []byte {
	var b strings.Builder
	b.WriteString("x0: &a0 [withdraw_orders]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("scenarios: [{match: {kind: withdrawal}, effect: {maintenance: {endpoints: *a9, duration: 1m}}}]\n")
	return []byte(b.String())
}

// TestRuleDocumentLimits: what PUT /sandbox/api/scenarios and the config file share.
func TestRuleDocumentLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	rule := func(field string) []byte {
		return []byte("- " + field + "\n  effect: {outcome: completed}\n")
	}
	for _, tc := range []struct {
		name string
		doc  []byte
		want string // "" accepted
		is   error
	}{
		{"AliasBomb", aliasBomb(20_000), "used more than 1000 times", config.ErrTooManyAliases},
		{"AliasBombBehindAQuote", append([]byte("- {name: 'x}\n"), aliasBomb(2_000)...), "used more than 1000 times", config.ErrTooManyAliases},
		{"WideAliases", aliasBomb(1_000), "YAML aliases expand past their limit", config.ErrAliasExpansion},
		{"NestedAliasBomb", nestedBomb(), "YAML aliases expand past their limit", config.ErrAliasExpansion},
		{"AliasesWithinBounds", aliasBomb(500), "", nil},
		{"TooManyRules", []byte(strings.Repeat("- {effect: {outcome: completed}}\n", scenarios.MaxRules+1)), "at most 1000", config.ErrTooManyRules},
		{"TooManyRulesUnderKey", []byte("rules:\n" + strings.Repeat("- {effect: {outcome: completed}}\n", scenarios.MaxRules+1)), "at most 1000", config.ErrTooManyRules},
		{"MaxRules", []byte(strings.Repeat("- {effect: {outcome: completed}}\n", scenarios.MaxRules)), "", nil},
		{"LongName", rule("name: " + long(scenarios.MaxRuleNameBytes+1)), "scenarios[0].name: 129 bytes: at most 128", nil},
		{"LongPattern", rule("match: {orderid: " + long(scenarios.MaxPatternBytes+1) + "}"), "scenarios[0].match.orderid: 513 bytes: at most 512", nil},
		{"LongCurrency", rule("match: {currency: " + long(9) + "}"), "match.currency: 9 bytes: at most 8", nil},
		{"LongMerchant", rule("match: {merchant: " + long(256) + "}"), "match.merchant: 256 bytes: at most 255", nil},
		{"LongRemarks", []byte("- effect: {outcome: fail, remarks: " + long(1025) + "}\n"), "effect.remarks: 1025 bytes: at most 1024", nil},
		{"LongError", []byte("- effect: {error: " + long(1025) + "}\n"), "effect.error: 1025 bytes: at most 1024", nil},
		{"LongFaultMessage", []byte("- effect: {fault: {kind: status, message: " + long(1025) + "}}\n"), "message is 1025 bytes: at most 1024", nil},
		{"Empty", nil, "no rules given", config.ErrNoRules},
		{"Comments", []byte("# nothing yet\n"), "no rules given", config.ErrNoRules},
		{"Null", []byte("null\n"), "no rules given", config.ErrNoRules},
		{"NullKey", []byte("scenarios:\n"), "no rules given", config.ErrNoRules},
		{"BothKeys", []byte("scenarios: []\nrules: []\n"), "not both", nil},
		{"ExplicitEmptyList", []byte("[]"), "", nil},
		{"ExplicitEmptyRules", []byte("rules: []\n"), "", nil},
		{"ExplicitEmptyScenarios", []byte("scenarios: []\n"), "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := config.ParseRules("rules", tc.doc)
			if tc.want == "" {
				require.NoError(t, err)
				assert.NotNil(t, rules)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.is != nil {
				assert.True(t, errors.Is(err, tc.is), "%v is %v", err, tc.is)
			}
		})
	}
}

// TestConfigScenarioLimits: a config file's scenarios meet the same bounds.
func TestConfigScenarioLimits(t *testing.T) {
	base := strings.Replace(string(config.DefaultYAML()), "\nscenarios: []\n", "\n", 1)
	_, err := config.Parse("big.yaml", []byte(base+"\nscenarios:\n"+strings.Repeat("- {effect: {outcome: completed}}\n", scenarios.MaxRules+1)))
	require.ErrorIs(t, err, config.ErrTooManyRules)
	bomb := strings.ReplaceAll(string(aliasBomb(20_000)), "\n-", "\n  -")
	_, err = config.Parse("bomb.yaml", []byte(base+"\nscenarios:\n  "+bomb))
	require.ErrorIs(t, err, config.ErrTooManyAliases)
	_, err = config.Parse("name.yaml", []byte(base+"\nscenarios:\n  - {name: "+strings.Repeat("n", 200)+", effect: {outcome: completed}}\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "scenarios[0].name: 200 bytes: at most 128")
}
