package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
)

// TestDocsConfigExamples loads every config example of the README's section "Your
// gateway is FPay, One1Pay, SuperRich or Vpay88" (server/family_test.go drives each).
func TestDocsConfigExamples(t *testing.T) {
	files, err := filepath.Glob("../docs/config/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4)
	for _, f := range files {
		c, err := config.Load(f)
		require.NoError(t, err, f)
		assert.NotEmpty(t, c.Merchants, f)
	}
	c, err := config.Load("../docs/config/superrich-thb.yaml")
	require.NoError(t, err)
	ids := []string{}
	for _, b := range c.BankList("THB") {
		ids = append(ids, b.ID)
	}
	assert.Equal(t, []string{"106", "107", "108", "109", "110", "113", "114", "115", "116", "117", "118", "120", "121", "123", "158"}, ids)
}

func TestBankEntries(t *testing.T) {
	base := string(config.DefaultYAML())
	for name, tc := range map[string]struct{ from, to, err string }{
		"DuplicateID":  {"  MYR:\n    - Malayan Banking Berhad\n", "  MYR:\n    - {id: \"7\", name: A}\n    - {id: \"7\", name: B}\n", "listed twice"},
		"EmptyName":    {"  MYR:\n    - Malayan Banking Berhad\n", "  MYR:\n    - {id: \"7\", name: \"\"}\n", "bank name"},
		"LongID":       {"  MYR:\n    - Malayan Banking Berhad\n", "  MYR:\n    - {id: \"12345678901234567\", name: A}\n", "bank id"},
		"BadCode":      {"{code: SGD,", "{code: sgd,", "3 to 5"},
		"NegativeOpen": {"{code: SGD, min: 1, max: 15000, deposit_charge_percent: 3, payout_fee: 5, start_balance: 1000000}", "{code: SGD, min: 1, max: 15000, deposit_charge_percent: 3, payout_fee: 5, start_balance: -1}", "start_balance"},
		"BadDialect":   {"    secret_key: vpay88-test-secret\n", "    secret_key: vpay88-test-secret\n    dialect: {callback_amount: float}\n", "dialect"},
	} {
		t.Run(name, func(t *testing.T) {
			doc := replaceOnce(t, base, tc.from, tc.to)
			_, err := config.Parse("x", []byte(doc))
			assert.ErrorContains(t, err, tc.err)
		})
	}
	doc := replaceOnce(t, base, "  MYR:\n    - Malayan Banking Berhad\n", "  MYR:\n    - {id: \"246\", name: MAYBANK}\n")
	c, err := config.Parse("x", []byte(doc))
	require.NoError(t, err)
	assert.Equal(t, "246", c.BankList("MYR")[0].ID)
	assert.Equal(t, "2", c.BankList("MYR")[1].ID, "names keep their position")
}

func replaceOnce(t *testing.T, s, from, to string) string {
	t.Helper()
	require.Contains(t, s, from)
	return strings.Replace(s, from, to, 1)
}
