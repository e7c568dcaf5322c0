package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
)

// TestParseMergesOverDefault: a document holds only what it changes (issue 21); what
// it leaves out keeps the embedded default's value, a list it gives replaces the
// default's whole, and `callbacks:` and `banks:` change key by key.
func TestParseMergesOverDefault(t *testing.T) {
	def := config.Default()
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, c *config.Config)
	}{
		{"Empty", "", func(t *testing.T, c *config.Config) {
			assert.Equal(t, def, c)
		}},
		{"OnlyComments", "# nothing changed\n", func(t *testing.T, c *config.Config) {
			assert.Equal(t, def, c)
		}},
		{"OnlyScenarios", "scenarios:\n  - name: fail-F\n    match: {orderid: '^F-'}\n    effect: {outcome: fail}\n", func(t *testing.T, c *config.Config) {
			require.Len(t, c.Scenarios, 1)
			assert.Equal(t, "fail-F", c.Scenarios[0].Name)
			assert.Equal(t, def.Merchants, c.Merchants)
			assert.Equal(t, def.TokenLifetime, c.TokenLifetime)
			assert.Equal(t, def.Callbacks, c.Callbacks)
		}},
		{"NullKeepsDefault", "scenarios:\ncallbacks:\n", func(t *testing.T, c *config.Config) {
			assert.Equal(t, def, c)
		}},
		{"OneCallbackSetting", "callbacks:\n  timeout: 3s\n", func(t *testing.T, c *config.Config) {
			assert.Equal(t, config.Duration(3*time.Second), c.Callbacks.Timeout)
			assert.Equal(t, def.Callbacks.Schedule, c.Callbacks.Schedule)
			assert.Equal(t, def.Callbacks.Concurrency, c.Callbacks.Concurrency)
		}},
		{"ScheduleReplacedWhole", "callbacks:\n  schedule: [0s, 1s]\n", func(t *testing.T, c *config.Config) {
			assert.Equal(t, []config.Duration{0, config.Duration(time.Second)}, c.Callbacks.Schedule)
		}},
		{"OneCurrencysBanks", "banks:\n  MYR: [Bank A, Bank B]\n", func(t *testing.T, c *config.Config) {
			assert.Equal(t, []config.BankEntry{{Name: "Bank A"}, {Name: "Bank B"}}, c.Banks["MYR"])
			assert.Equal(t, def.Banks["SGD"], c.Banks["SGD"])
		}},
		{"MerchantsReplacedWhole", "merchants:\n  - username: shop\n    api_key: k\n    secret_key: s\n    callback_url: http://127.0.0.1:9000/cb\n" +
			"    currencies: [{code: THB, min: 1, max: 10}]\n", func(t *testing.T, c *config.Config) {
			require.Len(t, c.Merchants, 1)
			assert.Equal(t, "shop", c.Merchants[0].Username)
			assert.Equal(t, "http://127.0.0.1:9000/cb", c.Merchants[0].CallbackURL)
			assert.Equal(t, def.Banks, c.Banks)
		}},
		{"Scalars", "token_lifetime: 5m\nauto_settle: completed\nprofile: observed\n", func(t *testing.T, c *config.Config) {
			assert.Equal(t, config.Duration(5*time.Minute), c.TokenLifetime)
			assert.Equal(t, "completed", c.AutoSettle)
			assert.EqualValues(t, "observed", c.Profile)
			assert.Equal(t, def.WithdrawalDelay, c.WithdrawalDelay)
		}},
		{"WholeDocument", string(config.DefaultYAML()), func(t *testing.T, c *config.Config) {
			assert.Equal(t, def, c)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse("part.yaml", []byte(tc.doc))
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
	// The default handed out is unchanged by the merges.
	assert.Equal(t, def, config.Default())
}

// TestParseMergedErrorsNameTheFile: a partial document is checked as the whole config
// it makes, and an error still names the line of the partial file.
func TestParseMergedErrorsNameTheFile(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"ZeroLifetime", "token_lifetime: 0s\n", "part.yaml:1: token_lifetime: must be a positive duration"},
		{"Concurrency", "# tuning\ncallbacks:\n  concurrency: 0\n", "part.yaml:3: callbacks.concurrency: must be between 1 and 256"},
		{"NoMerchants", "merchants: []\n", "merchants: at least one merchant"},
		{"UnknownField", "scenario:\n  - name: x\n", `part.yaml:1: unknown field "scenario"`},
		{"NotAMapping", "- a\n", "part.yaml:1:"},
		{"CurrencyWithoutBanks", "banks:\n  THB: []\nmerchants:\n  - {username: a, api_key: k, secret_key: s, currencies: [{code: THB, min: 1, max: 9}]}\n", "no banks are listed for THB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("part.yaml", []byte(tc.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestCallbackURLRule: a merchant's callback_url in the file follows the merchants
// API's rule (gateway.CheckCallbackURL): an http or https URL with a host, or none.
func TestCallbackURLRule(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"http://127.0.0.1:9000/cb", true},
		{"https://shop.example/vpay88/callback?x=1", true},
		{"http://app:8080/cb", true},
		{"localhost:9000/cb", false},
		{"app:8080/cb", false},
		{"127.0.0.1:9000/cb", false},
		{"/cb", false},
		{"ftp://shop.example/cb", false},
		{"http:///cb", false},
		{"http://:8080/cb", false},
		{"http://exa mple.com/", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			doc := "merchants:\n  - username: a\n    api_key: k\n    secret_key: s\n    callback_url: '" + tc.url + "'\n    currencies: [{code: MYR, min: 1, max: 10}]\n"
			_, err := config.Parse("cb.yaml", []byte(doc))
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "cb.yaml:5: merchants[0].callback_url: must be an http or https URL")
		})
	}
}
