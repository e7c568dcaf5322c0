package gateway_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// TestSwitchTable: every switch has a value in each profile among its values, its
// evidence with a number of sources, and a row in the README's table.
func TestSwitchTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	seen := map[gateway.Switch]bool{}
	for _, s := range gateway.Switches() {
		t.Run(string(s.Name), func(t *testing.T) {
			assert.False(t, seen[s.Name], "listed twice")
			seen[s.Name] = true
			if s.Values != nil {
				assert.Contains(t, s.Values, s.Document, "document's value")
				assert.Contains(t, s.Values, s.Observed, "observed's value")
			} else {
				assert.NoError(t, gateway.CheckCallbackURL(s.Document))
				assert.NoError(t, gateway.CheckCallbackURL(s.Observed))
			}
			assert.NotEmpty(t, s.What)
			assert.NotEmpty(t, s.Evidence)
			assert.Positive(t, s.Sources)
			assert.Contains(t, string(readme), "| `"+string(s.Name)+"` |", "README row")
			assert.Equal(t, s.Document, gateway.ProfileDocument.Preset().Get(s.Name))
			assert.Equal(t, s.Observed, gateway.ProfileObserved.Preset().Get(s.Name))
			assert.Equal(t, s.Document, gateway.Dialect{}.Get(s.Name), "the zero dialect is the document's")
		})
	}
}

func TestResolveDialect(t *testing.T) {
	d := gateway.ResolveDialect(gateway.ProfileDocument, map[string]string{"callback_amount": "string"}, "")
	assert.Equal(t, "string", d.Get(gateway.SwitchCallbackAmount))
	assert.Equal(t, "off", d.Get(gateway.SwitchPaymentType))
	d = gateway.ResolveDialect(gateway.ProfileDocument, nil, "duitnow")
	assert.Equal(t, "channel", d.Get(gateway.SwitchPaymentType), "a configured channel is sent under document")
	assert.Equal(t, "duitnow", d.PaymentTypeWord("duitnow"))
	d = gateway.ResolveDialect(gateway.ProfileObserved, nil, "duitnow")
	assert.Equal(t, "QR", d.PaymentTypeWord("duitnow"))
	assert.Equal(t, "Online Banking", d.PaymentTypeWord("bank"))
	assert.Equal(t, "EWallet", d.PaymentTypeWord("ewallet"))
	assert.Equal(t, "Card", d.PaymentTypeWord("Card"), "a free word as written")
	d = gateway.ResolveDialect(gateway.ProfileObserved, map[string]string{"payment_type": "off"}, "duitnow")
	assert.Equal(t, "", d.PaymentTypeWord("duitnow"))
	m := gateway.ProfileObserved.Preset().Map()
	assert.Len(t, m, len(gateway.Switches()))
}

func TestCheckDialect(t *testing.T) {
	assert.NoError(t, gateway.CheckDialect(nil))
	assert.NoError(t, gateway.CheckDialect(map[string]string{"callback_body": "form", "payout_callback_url": "https://shop.example/payout"}))
	for _, bad := range []map[string]string{
		{"nope": "on"}, {"callback_body": "xml"}, {"payout_callback_url": "shop/cb"},
		{"payout_callback_url": "http://x/" + strings.Repeat("a", 2048)}, {"payout_callback_url": "http://x/\x7f"},
	} {
		assert.Error(t, gateway.CheckDialect(bad), "%v", bad)
	}
}

func TestChannels(t *testing.T) {
	for code, want := range map[string]string{"Tng": "ewallet", "GrabPay": "ewallet", "Boost": "ewallet", "MayBankQR": "duitnow",
		"DuitNowQR": "duitnow", "MayBank": "bank", "PbeBank": "bank", "800": "bank"} {
		assert.Equal(t, want, gateway.OrderChannel(code, ""), code)
	}
	assert.Equal(t, "duitnow", gateway.OrderChannel("", "thaiqr"))
	assert.Equal(t, "ewallet", gateway.OrderChannel("", "truemoney"))
	assert.Equal(t, "", gateway.OrderChannel("", ""))
	assert.True(t, gateway.ValidPaymentType("Online Banking"))
	assert.False(t, gateway.ValidPaymentType(strings.Repeat("w", 33)))
	assert.False(t, gateway.ValidPaymentType(" bank"))
	assert.False(t, gateway.ValidPaymentType("a\tb"))
	assert.True(t, slices.Contains([]string{"thaiqr", "duitnowqr"}, gateway.PayMethodThaiQR))
}
