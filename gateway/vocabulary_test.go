package gateway_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

func TestOneOf(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a or b"},
		{[]string{"a", "b", "c"}, "a, b or c"},
	} {
		assert.Equal(t, tc.want, gateway.OneOf(tc.in))
	}
	assert.Equal(t, "deposit or withdrawal", gateway.OneOf(gateway.Kinds()))
}

// TestVocabulariesAreTheRules checks the lists against the rules that accept their
// values: each value passes, the defaults come first, and a caller that changes a list
// it was given changes no one else's.
func TestVocabulariesAreTheRules(t *testing.T) {
	for _, o := range gateway.Outcomes() {
		assert.True(t, o.Valid(), o)
	}
	assert.False(t, gateway.OutcomeKind("paid").Valid())

	// Every settle outcome settles a pending order of its kind; no other outcome does.
	for _, k := range gateway.Kinds() {
		settle := gateway.SettleOutcomes(k)
		for _, out := range gateway.Outcomes() {
			o := gateway.Order{Kind: k, Status: gateway.StatusPending, Amount: gateway.MustMoney("10"), HolderName: "A B"}
			got, err := gateway.Settle(o, gateway.Currency{}, gateway.Outcome{Kind: out}, "payer")
			if slices.Contains(settle, out) {
				require.NoError(t, err, "%s %s", k, out)
				assert.Contains(t, gateway.Statuses(), got.Status)
				assert.True(t, got.Settled(), "%s %s", k, out)
			} else {
				assert.False(t, err == nil && got.Settled(), "%s settles a %s", out, k)
			}
		}
	}
	assert.Equal(t, []gateway.OutcomeKind{gateway.OutcomeCompleted, gateway.OutcomeFail}, gateway.SettleOutcomes(gateway.KindDeposit))

	for _, p := range gateway.PaymentTypes() {
		assert.True(t, gateway.ValidPaymentType(p), p)
	}
	assert.False(t, gateway.ValidPaymentType("a word of more than thirty-two bytes"))

	// Every queued kind normalizes; the defaults Normalize fills are the lists' first.
	assert.NotContains(t, gateway.QueuedFaultKinds(), gateway.FaultMaintenance)
	assert.Equal(t, gateway.FaultMaintenance, gateway.FaultKinds()[len(gateway.FaultKinds())-1])
	for _, k := range gateway.QueuedFaultKinds() {
		f := gateway.FaultSpec{Kind: k, Message: "Params incorrect."}
		require.NoError(t, f.Normalize(), k)
		switch k {
		case gateway.FaultStatus, gateway.FaultLostAnswer:
			assert.Equal(t, gateway.FaultBodies()[0], f.Body, k)
		case gateway.FaultMalformed:
			assert.Equal(t, gateway.MalformedBodies()[0], f.Malformed)
		}
	}
	for _, body := range gateway.FaultBodies() {
		f := gateway.FaultSpec{Kind: gateway.FaultStatus, Body: body}
		assert.NoError(t, f.Normalize(), body)
	}
	for _, m := range gateway.MalformedBodies() {
		f := gateway.FaultSpec{Kind: gateway.FaultMalformed, Malformed: m}
		assert.NoError(t, f.Normalize(), m)
	}
	for _, then := range gateway.FaultThens() {
		f := gateway.FaultSpec{Kind: gateway.FaultLostAnswer, Then: then}
		assert.NoError(t, f.Normalize(), then)
	}
	bad := gateway.FaultSpec{Kind: "explode"}
	assert.ErrorContains(t, bad.Normalize(), "status, hang, reset, slow, lost_answer, malformed or message")
	for field, kinds := range gateway.FaultFieldKinds() {
		assert.NotEmpty(t, kinds, field)
		for _, k := range kinds {
			assert.Contains(t, gateway.QueuedFaultKinds(), k, field)
		}
	}

	kinds := gateway.Kinds()
	kinds[0] = "refund"
	statuses := gateway.Statuses()
	statuses[0] = "paid"
	assert.Equal(t, gateway.KindDeposit, gateway.Kinds()[0], "a caller changed the list")
	assert.Equal(t, gateway.StatusPending, gateway.Statuses()[0], "a caller changed the list")
}
