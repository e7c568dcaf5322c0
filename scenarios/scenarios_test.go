package scenarios_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/scenarios"
)

func money(s string) *gateway.Money {
	m := gateway.MustMoney(s)
	return &m
}

func deposit(id, amount, currency, email string) *gateway.Order {
	return &gateway.Order{Kind: gateway.KindDeposit, Merchant: "vpay88-test", OrderID: id,
		Amount: gateway.MustMoney(amount), Currency: currency, Email: email}
}

func withdrawal(id, amount, currency, holder, account string) *gateway.Order {
	return &gateway.Order{Kind: gateway.KindWithdrawal, Merchant: "vpay88-test", OrderID: id,
		Amount: gateway.MustMoney(amount), Currency: currency, HolderName: holder, AccountNo: account}
}

func TestDecideMagic(t *testing.T) {
	for _, tc := range []struct {
		name    string
		order   *gateway.Order
		outcome gateway.OutcomeKind
		source  string
	}{
		{"EmailSuccess", deposit("a", "100", "MYR", "success@example.com"), scenarios.OutcomeCompleted, "magic:email success"},
		{"EmailSuccessAnyCase", deposit("a", "100", "MYR", "Success@Example.com"), scenarios.OutcomeCompleted, "magic:email success"},
		{"EmailFail", deposit("a", "100", "MYR", "fail@shop.test"), scenarios.OutcomeFail, "magic:email fail"},
		{"EmailPending", deposit("a", "100", "MYR", "pending@shop.test"), scenarios.OutcomePending, "magic:email pending"},
		{"EmailOther", deposit("a", "100", "MYR", "john@example.com"), "", ""},
		{"EmailPrefixIsNotMagic", deposit("a", "100", "MYR", "success2@example.com"), "", ""},
		{"AccountSuccess", withdrawal("w", "1", "MYR", "John Doe", "4000000001"), scenarios.OutcomeCompleted, "magic:account_no 4000000001"},
		{"AccountFail", withdrawal("w", "1", "MYR", "John Doe", "4000000002"), scenarios.OutcomeFail, "magic:account_no 4000000002"},
		{"AccountNameMismatch", withdrawal("w", "1", "MYR", "John Doe", "4000000003"), scenarios.OutcomeNameMismatch, "magic:account_no 4000000003"},
		{"AccountNoBalance", withdrawal("w", "1", "MYR", "John Doe", "4000000004"), scenarios.OutcomeInsufficientBalance, "magic:account_no 4000000004"},
		{"AccountPending", withdrawal("w", "1", "MYR", "John Doe", "4000000009"), scenarios.OutcomePending, "magic:account_no 4000000009"},
		{"AccountOther", withdrawal("w", "1", "MYR", "John Doe", "12332343432"), "", ""},
		// Magic values are per kind: a deposit's email never matches account numbers
		// and a withdrawal has no email.
		{"WithdrawalMagicEmailIgnored", &gateway.Order{Kind: gateway.KindWithdrawal, Email: "success@example.com", AccountNo: "1"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := scenarios.Decide(tc.order, nil)
			assert.Equal(t, tc.outcome, d.Outcome)
			assert.Equal(t, tc.source, d.Source)
			assert.Zero(t, d.Delay)
			assert.Empty(t, d.Error)
		})
	}
}

func TestDecideRules(t *testing.T) {
	rules := []scenarios.Rule{
		{Name: "thb exact", Match: scenarios.Match{Kind: gateway.KindDeposit, Currency: "thb", Amount: money("123.45")},
			Effect: scenarios.Effect{Outcome: "completed", Name: "Somchai", Charge: money("1"), Delay: scenarios.Duration(time.Second)}},
		{Match: scenarios.Match{Kind: gateway.KindDeposit, AmountMin: money("7000"), AmountMax: money("7999.9999")},
			Effect: scenarios.Effect{Outcome: "fail"}},
		{Name: "busy", Match: scenarios.Match{OrderID: "^ERR-"}, Effect: scenarios.Effect{Error: "System busy."}},
		{Name: "slow email", Match: scenarios.Match{Email: `@slow\.test$`}, Effect: scenarios.Effect{Latency: scenarios.Duration(300 * time.Millisecond)}},
		{Name: "holder", Match: scenarios.Match{Kind: gateway.KindWithdrawal, HolderName: "(?i)^mismatch"},
			Effect: scenarios.Effect{Outcome: "name_mismatch", Name: "MR X"}},
		{Name: "account", Match: scenarios.Match{AccountNo: "^555"}, Effect: scenarios.Effect{Outcome: "fail", Remarks: "Bank account closed"}},
		{Name: "faults", Match: scenarios.Match{OrderID: "^F-", Merchant: "vpay88-test"},
			Effect: scenarios.Effect{Callback: scenarios.Faults{Duplicate: 2, WrongToken: true}}},
		{Name: "other merchant", Match: scenarios.Match{Merchant: "someone-else"}, Effect: scenarios.Effect{Outcome: "fail"}},
		// Rules come before magic values: this one turns a magic success into a fail.
		{Name: "override magic", Match: scenarios.Match{Email: "^success@override"}, Effect: scenarios.Effect{Outcome: "fail"}},
	}
	require.NoError(t, scenarios.Validate(rules))

	for _, tc := range []struct {
		name  string
		order *gateway.Order
		want  scenarios.Decision
	}{
		{"AmountExactCurrencyAnyCase", deposit("a", "123.45", "THB", "x@y.test"),
			scenarios.Decision{Source: "thb exact", Outcome: "completed", Name: "Somchai", Charge: money("1"), Delay: time.Second}},
		{"AmountExactOtherCurrency", deposit("a", "123.45", "MYR", "x@y.test"), scenarios.Decision{}},
		{"AmountExactOtherAmount", deposit("a", "123.4", "THB", "x@y.test"), scenarios.Decision{}},
		{"AmountExactWrongKind", withdrawal("a", "123.45", "THB", "A", "1"), scenarios.Decision{}},
		{"RangeLow", deposit("a", "7000", "MYR", "x@y.test"), scenarios.Decision{Source: "rule 2", Outcome: "fail"}},
		{"RangeHigh", deposit("a", "7999.9999", "MYR", "x@y.test"), scenarios.Decision{Source: "rule 2", Outcome: "fail"}},
		{"RangeBelow", deposit("a", "6999.9999", "MYR", "x@y.test"), scenarios.Decision{}},
		{"RangeAbove", deposit("a", "8000", "MYR", "x@y.test"), scenarios.Decision{}},
		{"OrderIDPattern", deposit("ERR-1", "1", "MYR", "x@y.test"), scenarios.Decision{Source: "busy", Error: "System busy."}},
		{"OrderIDPatternAnchored", deposit("X-ERR-1", "1", "MYR", "x@y.test"), scenarios.Decision{}},
		{"OrderIDPatternWithdrawal", withdrawal("ERR-2", "1", "MYR", "A", "1"), scenarios.Decision{Source: "busy", Error: "System busy."}},
		{"EmailPattern", deposit("a", "1", "MYR", "me@slow.test"), scenarios.Decision{Source: "slow email", Latency: 300 * time.Millisecond}},
		{"HolderPattern", withdrawal("a", "1", "MYR", "MISMATCH Ann", "1"), scenarios.Decision{Source: "holder", Outcome: "name_mismatch", Name: "MR X"}},
		{"AccountPattern", withdrawal("a", "1", "MYR", "Ann", "5551234"), scenarios.Decision{Source: "account", Outcome: "fail", Remarks: "Bank account closed"}},
		{"FirstMatchWins", withdrawal("ERR-3", "1", "MYR", "mismatch", "555"), scenarios.Decision{Source: "busy", Error: "System busy."}},
		{"Faults", deposit("F-1", "1", "MYR", "x@y.test"), scenarios.Decision{Source: "faults", Faults: scenarios.Faults{Duplicate: 2, WrongToken: true}}},
		{"RuleBeforeMagic", deposit("a", "1", "MYR", "success@override.test"), scenarios.Decision{Source: "override magic", Outcome: "fail"}},
		{"MagicWhenNoRule", deposit("a", "1", "MYR", "success@example.com"), scenarios.Decision{Source: "magic:email success", Outcome: "completed"}},
		{"MagicAccountWhenNoRule", withdrawal("a", "1", "MYR", "Ann", "4000000003"), scenarios.Decision{Source: "magic:account_no 4000000003", Outcome: "name_mismatch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, scenarios.Decide(tc.order, rules))
		})
	}
}

func TestValidate(t *testing.T) {
	ok := scenarios.Effect{Outcome: "completed"}
	for _, tc := range []struct {
		name string
		rule scenarios.Rule
		path string
		msg  string
	}{
		{"Kind", scenarios.Rule{Match: scenarios.Match{Kind: "refund"}, Effect: ok},
			"match.kind", `kind "refund" is not deposit or withdrawal`},
		{"AmountWithMin", scenarios.Rule{Match: scenarios.Match{Amount: money("1"), AmountMin: money("1")}, Effect: ok},
			"match.amount", "amount cannot be combined with amount_min/amount_max"},
		{"AmountWithMax", scenarios.Rule{Match: scenarios.Match{Amount: money("1"), AmountMax: money("2")}, Effect: ok},
			"match.amount", "amount cannot be combined"},
		{"MinAboveMax", scenarios.Rule{Match: scenarios.Match{AmountMin: money("2"), AmountMax: money("1")}, Effect: ok},
			"match.amount_min", "amount_min is above amount_max"},
		{"OrderIDPattern", scenarios.Rule{Match: scenarios.Match{OrderID: "("}, Effect: ok}, "match.orderid", "bad pattern: "},
		{"EmailPattern", scenarios.Rule{Match: scenarios.Match{Email: "[a-"}, Effect: ok}, "match.email", "bad pattern: "},
		{"HolderPattern", scenarios.Rule{Match: scenarios.Match{HolderName: "*x"}, Effect: ok}, "match.holder_name", "bad pattern: "},
		{"AccountPattern", scenarios.Rule{Match: scenarios.Match{AccountNo: `\`}, Effect: ok}, "match.account_no", "bad pattern: "},
		{"Outcome", scenarios.Rule{Effect: scenarios.Effect{Outcome: "paid"}},
			"effect.outcome", `outcome "paid" is not one of completed, fail, name_mismatch, insufficient_balance, rejected or pending`},
		{"NameMismatchNeedsWithdrawal", scenarios.Rule{Effect: scenarios.Effect{Outcome: "name_mismatch"}},
			"effect.outcome", "name_mismatch applies to withdrawals only: set match.kind: withdrawal"},
		{"NameMismatchOnDeposit", scenarios.Rule{Match: scenarios.Match{Kind: gateway.KindDeposit}, Effect: scenarios.Effect{Outcome: "name_mismatch"}},
			"effect.outcome", "name_mismatch applies to withdrawals only"},
		{"InsufficientBalanceNeedsWithdrawal", scenarios.Rule{Effect: scenarios.Effect{Outcome: "insufficient_balance"}},
			"effect.outcome", "insufficient_balance applies to withdrawals only"},
		{"RejectedNeedsWithdrawal", scenarios.Rule{Effect: scenarios.Effect{Outcome: "rejected"}},
			"effect.outcome", "rejected applies to withdrawals only"},
		{"DuplicateNegative", scenarios.Rule{Effect: scenarios.Effect{Callback: scenarios.Faults{Duplicate: -1}}},
			"effect.callback.duplicate", "duplicate must be between 0 and 10"},
		{"DuplicateTooMany", scenarios.Rule{Effect: scenarios.Effect{Callback: scenarios.Faults{Duplicate: 11}}},
			"effect.callback.duplicate", "duplicate must be between 0 and 10"},
		{"NoEffect", scenarios.Rule{Name: "empty", Match: scenarios.Match{Currency: "MYR"}}, "effect", "the rule has no effect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The bad rule is second, so the path must name its index.
			rules := []scenarios.Rule{{Effect: ok}, tc.rule}
			err := scenarios.Validate(rules)
			require.Error(t, err)
			var fe *scenarios.FieldError
			require.True(t, errors.As(err, &fe), "%T %v", err, err)
			assert.Equal(t, "scenarios[1]."+tc.path, fe.Path)
			assert.Contains(t, fe.Msg, tc.msg)
			assert.Equal(t, fe.Path+": "+fe.Msg, err.Error())
		})
	}

	t.Run("Valid", func(t *testing.T) {
		for _, r := range []scenarios.Rule{
			{Effect: scenarios.Effect{Outcome: "pending"}},
			{Match: scenarios.Match{Kind: gateway.KindWithdrawal}, Effect: scenarios.Effect{Outcome: "name_mismatch"}},
			{Match: scenarios.Match{Kind: gateway.KindWithdrawal}, Effect: scenarios.Effect{Outcome: "insufficient_balance"}},
			{Match: scenarios.Match{Kind: gateway.KindWithdrawal}, Effect: scenarios.Effect{Outcome: "rejected"}},
			{Match: scenarios.Match{AmountMin: money("1"), AmountMax: money("1")}, Effect: scenarios.Effect{Error: "x"}},
			{Effect: scenarios.Effect{Latency: scenarios.Duration(time.Millisecond)}},
			{Effect: scenarios.Effect{Remarks: "r"}},
			{Effect: scenarios.Effect{Name: "n"}},
			{Effect: scenarios.Effect{Charge: money("0")}},
			{Effect: scenarios.Effect{Callback: scenarios.Faults{Drop: true}}},
			{Effect: scenarios.Effect{Callback: scenarios.Faults{Duplicate: 10}}},
			{Effect: scenarios.Effect{Callback: scenarios.Faults{OutOfOrder: true}}},
		} {
			assert.NoError(t, scenarios.Validate([]scenarios.Rule{r}), "%+v", r)
		}
		assert.NoError(t, scenarios.Validate(nil))
	})
}
