package gateway_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

var myr = gateway.Currency{Code: "MYR", Min: gateway.MustMoney("1"), Max: gateway.MustMoney("50000"),
	DepositChargePercent: gateway.MustMoney("3"), PayoutFee: gateway.MustMoney("5")}

func pendingDeposit() gateway.Order {
	return gateway.Order{Kind: gateway.KindDeposit, Merchant: "m", OrderID: "D-1", Amount: gateway.MustMoney("300"),
		Currency: "MYR", Status: gateway.StatusPending}
}

func pendingPayout() gateway.Order {
	a := gateway.MustMoney("100")
	return gateway.Order{Kind: gateway.KindWithdrawal, Merchant: "m", OrderID: "W-1", Amount: a, Currency: "MYR",
		Status: gateway.StatusPending, HolderName: "SUK THAWAR", Reserved: gateway.PayoutReserve(a, myr)}
}

func TestPlan(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	def := gateway.Defaults{WithdrawalDelay: 2 * time.Second}
	for _, tc := range []struct {
		name    string
		order   gateway.Order
		d       gateway.Decision
		def     gateway.Defaults
		outcome gateway.OutcomeKind // "" : no timer
		at      time.Duration
		source  string
	}{
		{"DepositStaysPending", pendingDeposit(), gateway.Decision{}, def, "", 0, ""},
		{"DepositAutoSettles", pendingDeposit(), gateway.Decision{}, gateway.Defaults{AutoSettle: gateway.OutcomeCompleted, AutoSettleDelay: time.Minute}, gateway.OutcomeCompleted, time.Minute, "default"},
		{"PayoutCompletesAfterDelay", pendingPayout(), gateway.Decision{}, def, gateway.OutcomeCompleted, 2 * time.Second, "default"},
		{"MagicNameMismatchAtOnce", pendingPayout(), gateway.Decision{Source: "magic:account_no 4000000003", Outcome: gateway.OutcomeNameMismatch}, def, gateway.OutcomeNameMismatch, 0, "magic:account_no 4000000003"},
		{"RuleDelay", pendingDeposit(), gateway.Decision{Source: "slow", Outcome: gateway.OutcomeFail, Delay: time.Hour}, def, gateway.OutcomeFail, time.Hour, "slow"},
		{"DepositExpires", pendingDeposit(), gateway.Decision{}, gateway.Defaults{DepositExpiry: 15 * time.Minute}, gateway.OutcomeFail, 15 * time.Minute, gateway.SourceExpiry},
		{"PendingRuleDepositExpires", pendingDeposit(), gateway.Decision{Source: "hold", Outcome: gateway.OutcomePending}, gateway.Defaults{DepositExpiry: time.Minute}, gateway.OutcomeFail, time.Minute, gateway.SourceExpiry},
		{"AutoSettleBeatsExpiry", pendingDeposit(), gateway.Decision{}, gateway.Defaults{AutoSettle: gateway.OutcomeCompleted, AutoSettleDelay: time.Hour, DepositExpiry: time.Minute}, gateway.OutcomeCompleted, time.Hour, "default"},
		{"PayoutNeverExpires", pendingPayout(), gateway.Decision{Source: "magic", Outcome: gateway.OutcomePending}, gateway.Defaults{DepositExpiry: time.Minute}, "", 0, "magic"},
		{"MagicPendingPayoutHasNoTimer", pendingPayout(), gateway.Decision{Source: "magic", Outcome: gateway.OutcomePending}, def, "", 0, "magic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.order
			gateway.Plan(&o, tc.d, tc.def, now)
			assert.Equal(t, tc.d.Source, o.Rule)
			if tc.outcome == "" {
				assert.Nil(t, o.SettleOutcome)
				assert.True(t, o.SettleAt.IsZero())
				return
			}
			require.NotNil(t, o.SettleOutcome)
			assert.Equal(t, tc.outcome, o.SettleOutcome.Kind)
			assert.Equal(t, tc.source, o.SettleOutcome.Source)
			assert.Equal(t, now.Add(tc.at), o.SettleAt)
		})
	}
}

func TestSettle(t *testing.T) {
	charge := gateway.MustMoney("2.5")
	for _, tc := range []struct {
		name    string
		order   gateway.Order
		out     gateway.Outcome
		status  gateway.Status
		charge  string
		payer   string
		remarks string
		err     error
	}{
		{"DepositPaid", pendingDeposit(), gateway.Outcome{Kind: gateway.OutcomeCompleted}, gateway.StatusCompleted, "9.0000", "Ali", "", nil},
		{"DepositPaidByName", pendingDeposit(), gateway.Outcome{Kind: gateway.OutcomeCompleted, Name: "Siti"}, gateway.StatusCompleted, "9.0000", "Siti", "", nil},
		{"DepositFailedHasNoPayer", pendingDeposit(), gateway.Outcome{Kind: gateway.OutcomeFail, Name: "Siti"}, gateway.StatusFail, "0.0000", "", "", nil},
		{"DepositRuleCharge", pendingDeposit(), gateway.Outcome{Kind: gateway.OutcomeCompleted, Charge: &charge}, gateway.StatusCompleted, "2.5000", "Ali", "", nil},
		{"DepositCannotBeRejected", pendingDeposit(), gateway.Outcome{Kind: gateway.OutcomeRejected}, "", "", "", "", gateway.ErrBadOutcome},
		{"DepositHasNoNameMismatch", pendingDeposit(), gateway.Outcome{Kind: gateway.OutcomeNameMismatch}, "", "", "", "", gateway.ErrBadOutcome},
		{"PayoutCompleted", pendingPayout(), gateway.Outcome{Kind: gateway.OutcomeCompleted}, gateway.StatusCompleted, "5.0000", "SUK THAWAR", "Success", nil},
		{"PayoutFailed", pendingPayout(), gateway.Outcome{Kind: gateway.OutcomeFail}, gateway.StatusFail, "0.0000", "SUK THAWAR", "Transaction Failed", nil},
		{"PayoutRejected", pendingPayout(), gateway.Outcome{Kind: gateway.OutcomeRejected}, gateway.StatusRejected, "0.0000", "SUK THAWAR", "Rejected", nil},
		// The vendor's example: "Account Holder Name Mismatch (MR SUK THA != SUK THAWAR)".
		{"PayoutNameMismatch", pendingPayout(), gateway.Outcome{Kind: gateway.OutcomeNameMismatch}, gateway.StatusFail, "0.0000", "SUK THAWAR", "Account Holder Name Mismatch (MR SUK THA != SUK THAWAR)", nil},
		{"PayoutNameMismatchOnRecord", pendingPayout(), gateway.Outcome{Kind: gateway.OutcomeNameMismatch, Name: "S THAWAR"}, gateway.StatusFail, "0.0000", "SUK THAWAR", "Account Holder Name Mismatch (S THAWAR != SUK THAWAR)", nil},
		{"PayoutRemarks", pendingPayout(), gateway.Outcome{Kind: gateway.OutcomeFail, Remarks: "Bank offline"}, gateway.StatusFail, "0.0000", "SUK THAWAR", "Bank offline", nil},
		{"Pending", pendingPayout(), gateway.Outcome{Kind: gateway.OutcomePending}, gateway.StatusPending, "0.0000", "", "", nil},
		{"InsufficientBalanceIsNoSettlement", pendingPayout(), gateway.Outcome{Kind: gateway.OutcomeInsufficientBalance}, "", "", "", "", gateway.ErrBadOutcome},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := gateway.Settle(tc.order, myr, tc.out, "Ali")
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.charge, o.Charge.String())
			assert.Equal(t, tc.payer, o.PayerName)
			assert.Equal(t, tc.remarks, o.Remarks)
		})
	}
}

func TestSettlementMovement(t *testing.T) {
	settled := func(o gateway.Order, k gateway.OutcomeKind) gateway.Order {
		s, err := gateway.Settle(o, myr, gateway.Outcome{Kind: k}, "Ali")
		require.NoError(t, err)
		return s
	}
	cheaper := pendingPayout()
	cheaper.Status, cheaper.Charge = gateway.StatusCompleted, gateway.MustMoney("2")
	for _, tc := range []struct {
		name               string
		order              gateway.Order
		moves              bool
		available, reserve string
		reason             string
	}{
		{"DepositCredit", settled(pendingDeposit(), gateway.OutcomeCompleted), true, "291.0000", "0.0000", gateway.ReasonDepositCredit},
		{"FailedDepositMovesNothing", settled(pendingDeposit(), gateway.OutcomeFail), false, "0.0000", "0.0000", ""},
		{"PayoutSpendsItsReserve", settled(pendingPayout(), gateway.OutcomeCompleted), true, "0.0000", "-105.0000", gateway.ReasonPayoutComplete},
		{"CheaperFeeReturnsTheRest", cheaper, true, "3.0000", "-105.0000", gateway.ReasonPayoutComplete},
		{"FailedPayoutReleases", settled(pendingPayout(), gateway.OutcomeFail), true, "105.0000", "-105.0000", gateway.ReasonPayoutRelease},
		{"RejectedPayoutReleases", settled(pendingPayout(), gateway.OutcomeRejected), true, "105.0000", "-105.0000", gateway.ReasonPayoutRelease},
		{"PendingMovesNothing", pendingPayout(), false, "0.0000", "0.0000", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mv, ok := gateway.SettlementMovement(tc.order)
			assert.Equal(t, tc.moves, ok)
			assert.Equal(t, tc.available, mv.Available.String())
			assert.Equal(t, tc.reserve, mv.Reserved.String())
			assert.Equal(t, tc.reason, mv.Reason)
		})
	}
	r := gateway.ReserveMovement(pendingPayout())
	assert.Equal(t, "-105.0000", r.Available.String())
	assert.Equal(t, "105.0000", r.Reserved.String())
}

func TestCallbacks(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m := gateway.Merchant{Username: "m", SecretKey: "s3cret", CallbackURL: "http://127.0.0.1:1/cb"}
	paid, err := gateway.Settle(pendingDeposit(), myr, gateway.Outcome{Kind: gateway.OutcomeCompleted}, "Ali")
	require.NoError(t, err)
	with := func(f gateway.CallbackFaults) gateway.Order { o := paid; o.Faults, o.Rule = &f, "r1"; return o }
	token := func(cb gateway.Callback) string {
		var body struct{ Token string }
		require.NoError(t, json.Unmarshal(cb.Body, &body))
		return body.Token
	}
	good := gateway.Token("s3cret", "D-1")

	cbs := gateway.Callbacks(paid, m, gateway.Dialect{}, now)
	require.Len(t, cbs, 1)
	assert.Equal(t, now, cbs[0].At)
	assert.Equal(t, good, token(cbs[0]))
	assert.False(t, cbs[0].Dropped)

	noURL := m
	noURL.CallbackURL = ""
	cbs = gateway.Callbacks(paid, noURL, gateway.Dialect{}, now)
	require.Len(t, cbs, 1)
	assert.True(t, cbs[0].Dropped)

	cbs = gateway.Callbacks(with(gateway.CallbackFaults{Drop: true}), m, gateway.Dialect{}, now)
	assert.True(t, cbs[0].Dropped)
	assert.Contains(t, cbs[0].Note, "r1")

	cbs = gateway.Callbacks(with(gateway.CallbackFaults{Duplicate: 2, WrongToken: true, Delay: gateway.Duration(time.Minute)}), m, gateway.Dialect{}, now)
	require.Len(t, cbs, 3)
	for _, cb := range cbs {
		assert.NotEqual(t, good, token(cb), "wrong token on every copy")
		assert.Equal(t, now.Add(time.Minute), cb.At)
	}
	assert.Contains(t, cbs[1].Note, "duplicate")

	cbs = gateway.Callbacks(with(gateway.CallbackFaults{OutOfOrder: true}), m, gateway.Dialect{}, now)
	assert.Equal(t, now.Add(gateway.OutOfOrderHold), cbs[0].At)
}

func TestNeedsBank(t *testing.T) {
	for cur, want := range map[string]bool{"THB": true, "IDR": true, "MYR": false, "VND": false, "SGD": false} {
		assert.Equal(t, want, gateway.NeedsBank(cur), cur)
	}
}

func TestReverse(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	settle := func(o gateway.Order, k gateway.OutcomeKind) gateway.Order {
		s, err := gateway.Settle(o, myr, gateway.Outcome{Kind: k}, "Ali")
		require.NoError(t, err)
		return s
	}
	for _, tc := range []struct {
		name      string
		order     gateway.Order
		status    gateway.Status
		available string
		charge    string
	}{
		{"PaidDepositFails", settle(pendingDeposit(), gateway.OutcomeCompleted), gateway.StatusFail, "-291.0000", "0.0000"},
		{"FailedDepositCompletes", settle(pendingDeposit(), gateway.OutcomeFail), gateway.StatusCompleted, "291.0000", "9.0000"},
		{"CompletedPayoutFails", settle(pendingPayout(), gateway.OutcomeCompleted), gateway.StatusFail, "105.0000", "0.0000"},
		{"FailedPayoutCompletes", settle(pendingPayout(), gateway.OutcomeFail), gateway.StatusCompleted, "-105.0000", "5.0000"},
		{"RejectedPayoutCompletes", settle(pendingPayout(), gateway.OutcomeRejected), gateway.StatusCompleted, "-105.0000", "5.0000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, mv, err := gateway.Reverse(tc.order, myr, "Ali", now)
			require.NoError(t, err)
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.available, mv.Available.String())
			assert.Zero(t, mv.Reserved)
			assert.Equal(t, gateway.ReasonReversal, mv.Reason)
			assert.Equal(t, tc.charge, o.Charge.String())
			assert.Equal(t, 1, o.Reversals)
			assert.Equal(t, now, o.ReversedAt)
		})
	}
	_, _, err := gateway.Reverse(pendingDeposit(), myr, "Ali", now)
	assert.ErrorIs(t, err, gateway.ErrNotSettled)
}
