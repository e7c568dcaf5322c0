package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

func TestDefault(t *testing.T) {
	c := config.Default()
	assert.Equal(t, config.Duration(30*time.Minute), c.TokenLifetime, "SPEC §1: tokens live 30 minutes by default")
	require.Len(t, c.Merchants, 1)
	m := c.MerchantList()[0]
	// The vendor's example credentials (SPEC §3).
	assert.Equal(t, "vpay88-test", m.Username)
	assert.Contains(t, m.Aliases, "vpay88_test", "the vendor's withdraw_bank_list example spells the merchant so")
	assert.Equal(t, "EPSOWM0eewwrwer0OfUo", m.APIKey)
	assert.Equal(t, "vpay88-test-secret", m.SecretKey)

	var codes []string
	for _, cur := range m.Currencies {
		codes = append(codes, cur.Code)
	}
	assert.ElementsMatch(t, []string{"MYR", "SGD", "VND", "THB", "IDR"}, codes)

	for _, cur := range m.Currencies {
		t.Run(cur.Code, func(t *testing.T) {
			// Every amount in the vendor's examples must be admitted (SPEC §3).
			for _, a := range []string{"1", "25", "100", "300"} {
				amt := gateway.MustMoney(a)
				assert.True(t, cur.Min <= amt && amt <= cur.Max, "%s %s outside [%s, %s]", cur.Code, a, cur.Min, cur.Max)
			}
			assert.Equal(t, gateway.MustMoney("3"), cur.DepositChargePercent, "vendor: 300 → 9.0000")
			assert.Equal(t, gateway.MustMoney("5"), cur.PayoutFee, `vendor: "5.00"`)
			assert.Equal(t, gateway.MustMoney("1000000"), cur.StartBalance)

			banks := c.BankList(cur.Code)
			assert.GreaterOrEqual(t, len(banks), 12, "SPEC §3: at least 12 banks per currency")
			seen := map[string]bool{}
			for i, b := range banks {
				// Ids are numbered from "1" inside each currency: the vendor's withdraw
				// example uses bank_id "12" in every section.
				assert.Equal(t, strings.TrimLeft(b.ID, "0"), b.ID)
				assert.Equal(t, strconv.Itoa(i+1), b.ID)
				assert.Equal(t, cur.Code, b.Currency)
				assert.NotEmpty(t, strings.TrimSpace(b.Name))
				assert.False(t, seen[b.Name], "bank %q listed twice", b.Name)
				seen[b.Name] = true
			}
		})
	}
	// The bank names of the vendor's examples come first in their lists.
	assert.Equal(t, "Malayan Banking Berhad", c.BankList("MYR")[0].Name)
	assert.Equal(t, "Techcom Bank", c.BankList("VND")[0].Name)
	assert.Equal(t, "Siam Commercial Bank", c.BankList("THB")[0].Name)
	assert.Equal(t, "Bank Central of Asia", c.BankList("IDR")[0].Name)
	assert.Empty(t, c.BankList("USD"))
}

func TestDefaultYAMLParses(t *testing.T) {
	c, err := config.Parse("default.yaml", config.DefaultYAML())
	require.NoError(t, err)
	assert.Equal(t, config.Default(), c)
	assert.Equal(t, config.Duration(2*time.Second), c.WithdrawalDelay)
	assert.Len(t, c.Callbacks.Schedule, 8)
	assert.Equal(t, 4, c.Callbacks.PerHostLimit(), "a quarter of the 16 workers per receiver")
	c.Callbacks.PerHost = 2
	assert.Equal(t, 2, c.Callbacks.PerHostLimit())
	c.Callbacks.PerHost, c.Callbacks.Concurrency = 0, 3
	assert.Equal(t, 1, c.Callbacks.PerHostLimit(), "at least one")
}

// TestFastScheduleOutlastsRestart: the CI schedule keeps retrying through a receiver
// outage of 30 s, and each call returns a copy that callers may change.
func TestFastScheduleOutlastsRestart(t *testing.T) {
	s := config.FastSchedule()
	var total time.Duration
	for _, d := range s {
		total += time.Duration(d)
	}
	assert.Greater(t, total, 30*time.Second)
	assert.Equal(t, config.Duration(0), s[0], "the first attempt goes at once")
	s[0] = config.Duration(time.Hour)
	assert.Equal(t, config.Duration(0), config.FastSchedule()[0])
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sandbox.yaml")
	require.NoError(t, os.WriteFile(path, config.DefaultYAML(), 0o600))
	c, err := config.Load(path)
	require.NoError(t, err)
	assert.Equal(t, "vpay88-test", c.Merchants[0].Username)

	_, err = config.Load(filepath.Join(dir, "absent.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "absent.yaml")
}

// edit returns the default document with one exact substring replaced, failing the
// test if the substring is not there (so a change of default.yaml cannot silently turn
// a bad-document case into a good one).
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	doc := string(config.DefaultYAML())
	require.Contains(t, doc, old)
	return []byte(strings.Replace(doc, old, new, 1))
}

// lineOf returns the 1-based line of the first occurrence of s in doc.
func lineOf(t *testing.T, doc []byte, s string) int {
	t.Helper()
	i := strings.Index(string(doc), s)
	require.GreaterOrEqual(t, i, 0, "%q not in document", s)
	return strings.Count(string(doc[:i]), "\n") + 1
}

func TestParseRefusesBadDocuments(t *testing.T) {
	tests := []struct {
		name string
		doc  func(t *testing.T) []byte
		at   string // a substring of the offending line
		// field is a word the message must carry to name what is wrong.
		field string
	}{
		{"UnknownField", func(t *testing.T) []byte {
			return edit(t, "auto_settle: \"\"\n", "auto_settle: \"\"\nauto_setle: completed\n")
		}, "auto_setle:", "auto_setle"},
		{"UnknownRuleField", func(t *testing.T) []byte {
			return edit(t, "scenarios: []", "scenarios:\n  - name: typo\n    match:\n      orderid: ^x\n      emial: a\n    effect:\n      outcome: fail")
		}, "emial:", "emial"},
		{"MinAboveMax", func(t *testing.T) []byte {
			return edit(t, "{code: SGD, min: 1, max: 15000", "{code: SGD, min: 20000, max: 15000")
		}, "code: SGD", "max"},
		{"ZeroMin", func(t *testing.T) []byte {
			return edit(t, "{code: THB, min: 1,", "{code: THB, min: 0,")
		}, "code: THB", "max"},
		{"BadAmount", func(t *testing.T) []byte {
			return edit(t, "{code: VND, min: 1,", "{code: VND, min: 1e3,")
		}, "code: VND", "min"},
		{"BadDuration", func(t *testing.T) []byte {
			return edit(t, "withdrawal_delay: 2s", "withdrawal_delay: 2 seconds")
		}, "withdrawal_delay:", "withdrawal_delay"},
		{"BadScheduleDuration", func(t *testing.T) []byte {
			return edit(t, "schedule: [0s, 1m, 5m", "schedule: [0s, 1m, soon")
		}, "schedule: [0s, 1m, soon", "schedule"},
		{"ZeroTokenLifetime", func(t *testing.T) []byte {
			return edit(t, "token_lifetime: 30m", "token_lifetime: 0s")
		}, "token_lifetime:", "token_lifetime"},
		{"BadAutoSettle", func(t *testing.T) []byte {
			return edit(t, "auto_settle: \"\"", "auto_settle: paid")
		}, "auto_settle: paid", "auto_settle"},
		{"DuplicateUsername", func(t *testing.T) []byte {
			// A second merchant under the first one's username.
			return edit(t, "\n# Bank lists", "  - username: vpay88-test\n    api_key: other\n    secret_key: other\n"+
				"    currencies:\n      - {code: MYR, min: 1, max: 10, deposit_charge_percent: 3, payout_fee: 5, start_balance: 10}\n\n# Bank lists")
		}, "  - username: vpay88-test\n    api_key: other", "username"},
		{"AliasNamesTwoMerchants", func(t *testing.T) []byte {
			return edit(t, "aliases: [vpay88_test]", "aliases: [vpay88_test, vpay88-test]")
		}, "username: vpay88-test", "username"},
		{"DuplicateCurrency", func(t *testing.T) []byte {
			return edit(t, "{code: SGD,", "{code: MYR,")
		}, "{code: MYR, min: 1, max: 15000", "code"},
		{"LowerCaseCurrency", func(t *testing.T) []byte {
			return edit(t, "{code: IDR,", "{code: idr,")
		}, "{code: idr,", "code"},
		{"BadScenarioRegex", func(t *testing.T) []byte {
			return edit(t, "scenarios: []", "scenarios:\n  - name: broken\n    match:\n      kind: deposit\n      orderid: \"^(unclosed\"\n    effect:\n      outcome: fail")
		}, "orderid: \"^(unclosed\"", "orderid"},
		{"BadScenarioOutcome", func(t *testing.T) []byte {
			return edit(t, "scenarios: []", "scenarios:\n  - name: odd\n    match:\n      kind: deposit\n    effect:\n      outcome: refunded")
		}, "outcome: refunded", "outcome"},
		{"WithdrawalOnlyOutcome", func(t *testing.T) []byte {
			return edit(t, "scenarios: []", "scenarios:\n  - name: odd\n    match:\n      currency: MYR\n    effect:\n      outcome: name_mismatch")
		}, "outcome: name_mismatch", "outcome"},
		{"BadScenarioDelay", func(t *testing.T) []byte {
			return edit(t, "scenarios: []", "scenarios:\n  - name: slow\n    match:\n      kind: deposit\n    effect:\n      outcome: completed\n      delay: later")
		}, "delay: later", "delay"},
		{"NoBanksForCurrency", func(t *testing.T) []byte {
			// The file is merged over the default: an empty list takes THB's banks away.
			return edit(t, "  THB:\n", "  THB: []\n  XTHB:\n")
		}, "{code: THB,", "code"},
		{"BadConcurrency", func(t *testing.T) []byte {
			return edit(t, "concurrency: 16", "concurrency: 0")
		}, "concurrency: 0", "concurrency"},
		{"PerHostAboveConcurrency", func(t *testing.T) []byte {
			return edit(t, "per_host: 0", "per_host: 17")
		}, "per_host: 17", "per_host"},
		{"NegativePerHost", func(t *testing.T) []byte {
			return edit(t, "per_host: 0", "per_host: -1")
		}, "per_host: -1", "per_host"},
		{"SyntaxError", func(t *testing.T) []byte {
			return edit(t, "token_lifetime: 30m", "token_lifetime: [30m")
		}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc(t)
			at, field := tc.at, tc.field
			_, err := config.Parse("custom.yaml", doc)
			require.Error(t, err)
			msg := err.Error()
			t.Log(msg)
			if at == "" { // a syntax error: the file and a line, whatever the field
				assert.Regexp(t, regexp.MustCompile(`custom\.yaml:\d+`), msg)
				return
			}
			line := lineOf(t, doc, at)
			// file:line, then the field.
			assert.Regexp(t, regexp.MustCompile(`custom\.yaml:`+strconv.Itoa(line)+`\b`), msg, "want line %d", line)
			assert.Contains(t, msg, field)
		})
	}
}

// TestParseRefusesUnknownMerchantField guards the strictness promise: a typo anywhere
// in a merchant is an error, never a silently ignored key.
func TestParseRefusesUnknownMerchantField(t *testing.T) {
	doc := edit(t, "    api_key: EPSOWM0eewwrwer0OfUo\n", "    api_key: EPSOWM0eewwrwer0OfUo\n    apikey: typo\n")
	_, err := config.Parse("custom.yaml", doc)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apikey")
	assert.Contains(t, err.Error(), "custom.yaml:"+strconv.Itoa(lineOf(t, doc, "apikey:")))
}

func TestParseAcceptsScenarios(t *testing.T) {
	doc := edit(t, "scenarios: []", `scenarios:
  - name: slow-fail
    match:
      kind: deposit
      currency: MYR
      amount_min: 10
      amount_max: 20.5
      orderid: "^fail-"
    effect:
      outcome: fail
      delay: 1.5s
      callback:
        duplicate: 2
  - name: mismatch
    match:
      kind: withdrawal
      holder_name: "(?i)suk"
    effect:
      outcome: name_mismatch
      name: MR SUK THA`)
	c, err := config.Parse("custom.yaml", doc)
	require.NoError(t, err)
	require.Len(t, c.Scenarios, 2)
	r := c.Scenarios[0]
	assert.Equal(t, "slow-fail", r.Name)
	assert.Equal(t, gateway.MustMoney("20.5"), *r.Match.AmountMax)
	assert.Equal(t, config.Duration(1500*time.Millisecond), r.Effect.Delay)
	assert.Equal(t, 2, r.Effect.Callback.Duplicate)
}

// FuzzParse feeds arbitrary documents to the config parser: it refuses or accepts,
// never panics, and what it accepts passes validation.
func FuzzParse(f *testing.F) {
	f.Add(string(config.DefaultYAML()))
	f.Add("token_lifetime: 30m\nfoo: 1\n")
	f.Add("merchants:\n  - username: a\n    currencies: [{code: MYR, min: 5, max: 1}]\n")
	f.Add("scenarios:\n  - match: {orderid: '('}\n    effect: {outcome: fail}\n")
	f.Add("- &r {effect: {outcome: fail}}\n- *r\n- <<: *r\n  name: x\nrules: *r\n")
	f.Add("a: &a [x, x]\nb: &b [*a, *a]\nscenarios: [{effect: {maintenance: {endpoints: *b, duration: 1m}}}]\n")
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := config.Parse("fuzz.yaml", []byte(doc))
		if err == nil && len(c.Merchants) == 0 {
			t.Fatalf("accepted a document without merchants: %q", doc)
		}
		_, _ = config.ParseRules("rules", []byte(doc))
	})
}

// TestDeepNestingRefused: a 30,000-deep flow collection is refused before the YAML
// decoder spends seconds on it; ordinary flow lists pass.
func TestDeepNestingRefused(t *testing.T) {
	_, err := config.ParseRules("rules", []byte(strings.Repeat("[", 30000)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nest deeper than 64")
	_, err = config.ParseRules("rules", []byte("- name: a\n  match: {kind: deposit, orderid: '^[a-z]{3}$'} # [[[[\n  effect: {outcome: completed}\n"))
	require.NoError(t, err)
}
