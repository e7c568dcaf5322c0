package config_test

import (
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/scenarios"
)

// TestDefaultCopiesAreIndependent: Default parses once per process, so a test that
// changes its copy deeply must not leak the change into the next caller's.
func TestDefaultCopiesAreIndependent(t *testing.T) {
	pristine, err := config.Parse("default.yaml", config.DefaultYAML())
	require.NoError(t, err)

	a := config.Default()
	a.TokenLifetime = 1
	a.Callbacks.Schedule[0] = 99
	a.Callbacks.Schedule = append(a.Callbacks.Schedule, 1)
	m := &a.Merchants[0]
	m.Username, m.CallbackURL = "changed", "http://changed"
	m.Aliases[0] = "changed"
	m.Currencies[0].Max = gateway.MustMoney("1")
	m.Currencies = append(m.Currencies[:1], m.Currencies[2:]...) // shifts in place
	a.Merchants = append(a.Merchants, config.MerchantConfig{Username: "extra"})
	a.Banks["MYR"][0] = config.BankEntry{Name: "changed"}
	delete(a.Banks, "SGD")
	a.Banks["USD"] = []config.BankEntry{{Name: "new"}}
	a.Scenarios = append(a.Scenarios, scenarios.Rule{Name: "added"})

	b := config.Default()
	assert.Equal(t, pristine, b, "the second copy is as parsed")
	assert.NotSame(t, a, b)
}

// TestCloneSharesNothing walks a clone beside its original: no slice, map or pointer
// of the clone may be the original's (compiled patterns excepted: they never change).
// It catches a field added to Config but forgotten in Clone.
func TestCloneSharesNothing(t *testing.T) {
	c := withRules(t)
	cl := c.Clone()
	assert.Equal(t, c, cl)
	assertShared(t, "Config", reflect.ValueOf(c).Elem(), reflect.ValueOf(cl).Elem())
	assert.Nil(t, (*config.Config)(nil).Clone())
}

// TestCloneKeepsRulesCompiled: the clone's rules match as the original's do without a
// second Validate, and the original's still match after the clone's are changed.
func TestCloneKeepsRulesCompiled(t *testing.T) {
	c := withRules(t)
	cl := c.Clone()
	failing := &gateway.Order{Kind: gateway.KindDeposit, Currency: "MYR", Amount: gateway.MustMoney("15"), OrderID: "fail-1"}
	other := &gateway.Order{Kind: gateway.KindDeposit, Currency: "MYR", Amount: gateway.MustMoney("15"), OrderID: "ok-1"}
	assert.Equal(t, "slow-fail", scenarios.Decide(failing, cl.Scenarios).Source)
	assert.Empty(t, scenarios.Decide(other, cl.Scenarios).Source, "the pattern is applied, not skipped")

	*cl.Scenarios[0].Match.AmountMax = gateway.MustMoney("1")
	cl.Scenarios[0].Effect.Maintenance.Endpoints[0] = gateway.EndpointAuth
	assert.Equal(t, "slow-fail", scenarios.Decide(failing, c.Scenarios).Source)
	assert.Equal(t, gateway.EndpointWithdrawOrders, c.Scenarios[0].Effect.Maintenance.Endpoints[0])
}

// withRules is the default config with a rule that uses every pointer a rule has.
func withRules(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse("rules.yaml", edit(t, "scenarios: []", `scenarios:
  - name: slow-fail
    match: {kind: deposit, currency: MYR, amount_min: 10, amount_max: 20.5, orderid: "^fail-"}
    effect:
      outcome: fail
      charge: 1.5
      fault: {kind: status}
      maintenance: {duration: 10m}
  - name: exact
    match: {amount: 7, email: "x@"}
    effect: {outcome: completed}`))
	require.NoError(t, err)
	return c
}

var regexpType = reflect.TypeFor[*regexp.Regexp]()

// assertShared fails for every slice, map or pointer that a and b share under path.
func assertShared(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return
		}
		if a.Type() != regexpType && a.Pointer() == b.Pointer() {
			t.Errorf("%s: the clone shares the pointer", path)
		}
		if a.Type() != regexpType {
			assertShared(t, path, a.Elem(), b.Elem())
		}
	case reflect.Slice:
		if a.Cap() > 0 && a.Pointer() == b.Pointer() {
			t.Errorf("%s: the clone shares the slice's array", path)
		}
		for i := range min(a.Len(), b.Len()) {
			assertShared(t, path+"["+strconv.Itoa(i)+"]", a.Index(i), b.Index(i))
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			t.Errorf("%s: the clone shares the map", path)
		}
		for it := a.MapRange(); it.Next(); {
			if bv := b.MapIndex(it.Key()); bv.IsValid() {
				assertShared(t, path+"."+it.Key().String(), it.Value(), bv)
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			assertShared(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
	}
}

// BenchmarkDefault is what each caller of Default pays: a clone since the document is
// parsed once per process.
func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		_ = config.Default()
	}
}

// BenchmarkParseDefault is the one parse of the embedded document, which start-up
// waits for (2.6 ms and 1.4 MB before amounts and durations read their own scalars,
// 0.37 ms and 0.27 MB after).
func BenchmarkParseDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := config.Parse("(embedded default)", config.DefaultYAML()); err != nil {
			b.Fatal(err)
		}
	}
}
