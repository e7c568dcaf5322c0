package scenarios_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/scenarios"
)

// TestIndexDecidesAsTheList: the index gives the list's first match for every order,
// whatever mix of kinds, currencies and merchants the rules name.
func TestIndexDecidesAsTheList(t *testing.T) {
	rules := []scenarios.Rule{
		{Name: "myr-big", Match: scenarios.Match{Kind: gateway.KindDeposit, Currency: "myr", AmountMin: money("500")}, Effect: scenarios.Effect{Outcome: scenarios.OutcomeFail}},
		{Name: "team-b", Match: scenarios.Match{Merchant: "team-b"}, Effect: scenarios.Effect{Outcome: scenarios.OutcomePending}},
		{Match: scenarios.Match{OrderID: "^ERR-"}, Effect: scenarios.Effect{Error: "System busy."}},
		{Name: "thb-payout", Match: scenarios.Match{Kind: gateway.KindWithdrawal, Currency: "THB"}, Effect: scenarios.Effect{Outcome: scenarios.OutcomeRejected}},
		{Name: "myr-any", Match: scenarios.Match{Currency: "MYR", Merchant: "vpay88-test"}, Effect: scenarios.Effect{Outcome: scenarios.OutcomeCompleted}},
		{Name: "deposits", Match: scenarios.Match{Kind: gateway.KindDeposit}, Effect: scenarios.Effect{Latency: scenarios.Duration(1)}},
	}
	require.NoError(t, scenarios.Validate(rules))
	x := scenarios.NewIndex(rules)
	assert.Equal(t, len(rules), x.Len())
	var orders []*gateway.Order
	for _, kind := range []gateway.Kind{gateway.KindDeposit, gateway.KindWithdrawal} {
		for _, cur := range []string{"MYR", "myr", "THB", "SGD", ""} {
			for _, m := range []string{"vpay88-test", "team-b", ""} {
				for _, id := range []string{"ERR-1", "OK-1"} {
					for _, amount := range []string{"100", "900"} {
						orders = append(orders, &gateway.Order{Kind: kind, Currency: cur, Merchant: m, OrderID: id,
							Amount: gateway.MustMoney(amount), Email: "success@example.com", AccountNo: "4000000002"})
					}
				}
			}
		}
	}
	for _, o := range orders {
		name := fmt.Sprintf("%s/%s/%s/%s/%s", o.Kind, o.Currency, o.Merchant, o.OrderID, o.Amount)
		assert.Equal(t, scenarios.Decide(o, rules), x.Decide(o), name)
	}
	var nilIndex *scenarios.Index
	assert.Equal(t, "magic:email success", nilIndex.Decide(orders[0]).Source)
}

// unrelatedRules is finding 1 of issue 18: many rules for another currency and
// merchant, then the one that matches.
func unrelatedRules(n int) []scenarios.Rule {
	rules := make([]scenarios.Rule, 0, n+1)
	for i := 0; i < n; i++ {
		rules = append(rules, scenarios.Rule{Match: scenarios.Match{Kind: gateway.KindDeposit, Currency: "THB", Merchant: "other", OrderID: fmt.Sprintf("^T%d-", i)},
			Effect: scenarios.Effect{Outcome: scenarios.OutcomeFail}})
	}
	return append(rules, scenarios.Rule{Name: "mine", Match: scenarios.Match{Kind: gateway.KindDeposit, Currency: "MYR"}, Effect: scenarios.Effect{Outcome: scenarios.OutcomeCompleted}})
}

// BenchmarkDecide: an order's cost with 999 rules written for another team, through
// the index and trying every rule (the cost before the index).
func BenchmarkDecide(b *testing.B) {
	rules := unrelatedRules(scenarios.MaxRules - 1)
	if err := scenarios.Validate(rules); err != nil {
		b.Fatal(err)
	}
	o := &gateway.Order{Kind: gateway.KindDeposit, Currency: "MYR", Merchant: "vpay88-test", OrderID: "A-" + strings.Repeat("1", 20), Amount: gateway.MustMoney("100")}
	x := scenarios.NewIndex(rules)
	b.Run("Index", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if x.Decide(o).Source != "mine" {
				b.Fatal("wrong rule")
			}
		}
	})
	b.Run("List", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if scenarios.Decide(o, rules).Source != "mine" {
				b.Fatal("wrong rule")
			}
		}
	})
}
