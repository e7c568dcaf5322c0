// Package config reads the sandbox's YAML configuration: merchants, currencies, banks,
// token lifetime, settlement and callback timing, scenario rules. A bad file is refused
// with its name, line and field.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/scenarios"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration document.
func DefaultYAML() []byte { return defaultYAML }

// Config is the whole sandbox configuration.
type Config struct {
	TokenLifetime   scenarios.Duration `yaml:"token_lifetime"`
	AutoSettle      string             `yaml:"auto_settle"`
	AutoSettleDelay scenarios.Duration `yaml:"auto_settle_delay"`
	WithdrawalDelay scenarios.Duration `yaml:"withdrawal_delay"`
	// DepositExpiry, when set, fails a deposit still pending this long after it was
	// made, with remarks "Expired" and its callback, as merchants expire their own
	// abandoned orders (README, guessed behaviours); 0 (the default) never expires.
	DepositExpiry scenarios.Duration `yaml:"deposit_expiry"`
	// Retention, when set, deletes orders older than it (settled, or deposits left
	// pending with nothing scheduled) with their callbacks, and folds the ledger
	// entries older than it; 0 keeps everything.
	Retention scenarios.Duration `yaml:"retention"`
	// Profile is which gateway to imitate where the document and live integrations
	// disagree: document (the default) or observed (docs/fidelity.md, observed).
	Profile   gateway.Profile        `yaml:"profile"`
	Callbacks Callbacks              `yaml:"callbacks"`
	Merchants []MerchantConfig       `yaml:"merchants"`
	Banks     map[string][]BankEntry `yaml:"banks"`
	Scenarios []scenarios.Rule       `yaml:"scenarios"`
}

// Callbacks tunes the callback dispatcher.
type Callbacks struct {
	// Schedule is the delay before each attempt; its length is the number of attempts.
	Schedule    []scenarios.Duration `yaml:"schedule"`
	Timeout     scenarios.Duration   `yaml:"timeout"`
	Concurrency int                  `yaml:"concurrency"`
	// PerHost caps the attempts in flight to one receiver (host:port), so that a hung
	// receiver holds at most this many of the Concurrency workers; 0 means a quarter
	// of Concurrency (at least 1).
	PerHost int `yaml:"per_host"`
}

// PerHostLimit returns the per-receiver cap in force (PerHost, or its default).
func (c Callbacks) PerHostLimit() int {
	if c.PerHost > 0 {
		return c.PerHost
	}
	return max(1, c.Concurrency/4)
}

// FastSchedule returns the retry schedule for CI and tests: quick first retries, yet
// nine attempts spread over 33.8 s, so a receiver restarted during a test run (an
// outage of up to 30 s) still gets its callbacks. A fresh slice each call: callers
// may change their copy.
func FastSchedule() []scenarios.Duration {
	ms := func(n int) scenarios.Duration { return scenarios.Duration(time.Duration(n) * time.Millisecond) }
	return []scenarios.Duration{0, ms(100), ms(200), ms(500), ms(1000), ms(2000), ms(5000), ms(10000), ms(15000)}
}

// MerchantConfig is one merchant as the YAML file writes it.
type MerchantConfig struct {
	Username    string             `yaml:"username"`
	Aliases     []string           `yaml:"aliases"`
	APIKey      string             `yaml:"api_key"`
	SecretKey   string             `yaml:"secret_key"`
	CallbackURL string             `yaml:"callback_url"`
	Currencies  []gateway.Currency `yaml:"currencies"`
	// PaymentType is the account's channel (bank, duitnow, ewallet): live merchants
	// run one account per channel; observed-profile callbacks name it.
	PaymentType string `yaml:"payment_type"`
	// Profile, when set, is this merchant's own profile (document or observed): its
	// dialect starts from that preset instead of the sandbox's profile.
	Profile gateway.Profile `yaml:"profile"`
	// Dialect overrides the profile's value of dialect switches for this merchant
	// (gateway.Switches: callback_amount: string, pending_status: status_false…).
	Dialect map[string]string `yaml:"dialect"`
}

// BankEntry is one bank of a currency's list: a plain name, whose id is its position
// from "1" (the vendor's lists), or {id, name} for a white label that numbers its
// banks its own way (FPay BDT 800, SuperRich THB 106…; docs/fidelity.md, family).
type BankEntry struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

// UnmarshalYAML reads a name or an {id, name} mapping.
func (b *BankEntry) UnmarshalYAML(unmarshal func(any) error) error {
	var name string
	if err := unmarshal(&name); err == nil {
		*b = BankEntry{Name: name}
		return nil
	}
	type plain BankEntry
	return unmarshal((*plain)(b))
}

// Default returns the embedded default configuration, a fresh copy each call that the
// caller may change.
func Default() *Config { return defaultConfig().Clone() }

// defaultConfig parses the embedded document once per process: the YAML decoder took
// half the time of a sandboxtest.New (issue 12), paid again by every test. Nobody may
// change the parsed value; Default hands out clones.
var defaultConfig = sync.OnceValue(func() *Config {
	c, err := parse("(embedded default)", defaultYAML, nil)
	if err != nil {
		panic("embedded default config: " + err.Error()) // a build defect, caught by tests
	}
	return c
})

// Clone returns a deep copy of c: a change to the copy's merchants, currencies, banks,
// schedule or rules leaves c as it was. Compiled rule patterns are shared
// (scenarios.Rule.Clone), so the copy needs no second Validate. A nil c gives nil.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	out := *c
	out.Callbacks.Schedule = slices.Clone(c.Callbacks.Schedule)
	if c.Merchants != nil {
		out.Merchants = make([]MerchantConfig, len(c.Merchants))
		for i, m := range c.Merchants {
			m.Aliases = slices.Clone(m.Aliases)
			m.Currencies = slices.Clone(m.Currencies)
			for j := range m.Currencies {
				m.Currencies[j].Banks = slices.Clone(m.Currencies[j].Banks)
			}
			m.Dialect = maps.Clone(m.Dialect)
			out.Merchants[i] = m
		}
	}
	if c.Banks != nil {
		out.Banks = make(map[string][]BankEntry, len(c.Banks))
		for code, names := range c.Banks {
			out.Banks[code] = slices.Clone(names)
		}
	}
	out.Scenarios = scenarios.CloneRules(c.Scenarios)
	return &out
}

// Load reads a config file, merges it over the embedded default (Parse) and validates
// the result.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return Parse(path, b)
}

// Parse decodes a config document over the embedded default and validates the
// result; name is used in error messages. A document holds only what it changes
// (issue 21: a file with nothing but `scenarios:` is a whole config): each top-level
// key it gives replaces the default's, the keys of `callbacks:` and `banks:` one by one,
// and a list (merchants, scenarios, schedule) whole. A key left empty (null) keeps
// the default; `scenarios: []` clears the rules. Unknown fields are errors: a typo in
// a rule must not silently disable it.
func Parse(name string, b []byte) (*Config, error) {
	return parse(name, b, defaultConfig())
}

// parse is Parse over base; a nil base takes the document as the whole config (the
// embedded default itself).
func parse(name string, b []byte, base *Config) (*Config, error) {
	var c Config
	f, err := checkDocument(b, "scenarios")
	if err != nil {
		return nil, decodeError("config "+name, b, err)
	}
	if err := decodeParsed(f, b, &c); err != nil {
		return nil, decodeError("config "+name, b, err)
	}
	if base != nil {
		// The strict decode above accepted the document, so it is a mapping (or
		// empty) whose keys are Config's: this second, loose decode says which.
		var given map[string]any
		if err := yaml.Unmarshal(b, &given); err != nil {
			return nil, decodeError("config "+name, b, err)
		}
		merged := base.Clone()
		overlay(reflect.ValueOf(merged).Elem(), reflect.ValueOf(&c).Elem(), given)
		c = *merged
	}
	if err := c.validate(); err != nil {
		var fe *scenarios.FieldError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("config %s:%s %s: %s", name, lineOf(b, fe.Path), fe.Path, fe.Msg)
		}
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return &c, nil
}

// overlay sets the fields of dst (a struct) that given names to src's: a nested
// mapping into a struct field goes one key at a time, into a map field one entry at a
// time; anything else (a scalar, a list) replaces the field whole. A null value is
// skipped, so `scenarios:` alone changes nothing.
func overlay(dst, src reflect.Value, given map[string]any) {
	t := dst.Type()
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		v, ok := given[key]
		if !ok || v == nil {
			continue
		}
		df, sf := dst.Field(i), src.Field(i)
		sub, mapping := v.(map[string]any)
		switch {
		case mapping && df.Kind() == reflect.Struct:
			overlay(df, sf, sub)
		case mapping && df.Kind() == reflect.Map:
			if df.IsNil() {
				df.Set(reflect.MakeMap(df.Type()))
			}
			for it := sf.MapRange(); it.Next(); {
				df.SetMapIndex(it.Key(), it.Value())
			}
		default:
			df.Set(sf)
		}
	}
}

// decodeError words a YAML decoding error as "LABEL:LINE: message" (the label is
// "config FILE" at start-up, "rules" for the admin API), followed by
// the lines around it. goccy's own errors carry their position; the errors of a value's
// UnmarshalText (a bad amount or duration) carry none, so the value is looked for.
func decodeError(label string, b []byte, err error) error {
	if errors.Is(err, errTooDeep) {
		// Looking for the bad value would parse the very document refused for its cost.
		return fmt.Errorf("%s:%w", label, err)
	}
	if errors.Is(err, ErrAliasExpansion) || errors.Is(err, ErrTooManyAliases) || errors.Is(err, ErrTooManyRules) {
		return fmt.Errorf("%s: %w", label, err)
	}
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		text := yaml.FormatError(err, false, true)
		// Drop goccy's "[line:col] " prefix: the position leads the message already.
		if strings.HasPrefix(text, "[") {
			if i := strings.Index(text, "] "); i > 0 {
				text = text[i+2:]
			}
		}
		return fmt.Errorf("%s:%d: %s", label, ye.GetToken().Position.Line, text)
	}
	if path, line, ok := badValue(b); ok {
		return fmt.Errorf("%s:%d: %s: %s", label, line, path, err)
	}
	return fmt.Errorf("%s: %s", label, yaml.FormatError(err, false, true))
}

// The keys whose values are gateway.Money or gateway.Duration, wherever they appear.
var (
	moneyKeys    = map[string]bool{"min": true, "max": true, "deposit_charge_percent": true, "payout_fee": true, "start_balance": true, "amount": true, "amount_min": true, "amount_max": true, "charge": true}
	durationKeys = map[string]bool{"retention": true, "token_lifetime": true, "auto_settle_delay": true, "withdrawal_delay": true, "deposit_expiry": true, "duration": true, "timeout": true, "delay": true, "latency": true, "schedule": true}
)

// badValue finds the first amount or duration in the document that does not parse, and
// returns its path and line.
func badValue(b []byte) (string, int, bool) {
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return "", 0, false
	}
	v := &badValueFinder{}
	for _, doc := range f.Docs {
		if doc.Body != nil {
			ast.Walk(v, doc.Body)
		}
	}
	if v.node == nil {
		return "", 0, false
	}
	return strings.TrimPrefix(v.node.GetPath(), "$."), v.node.GetToken().Position.Line, true
}

type badValueFinder struct{ node ast.Node }

func (v *badValueFinder) Visit(n ast.Node) ast.Visitor {
	if v.node != nil {
		return nil
	}
	mv, ok := n.(*ast.MappingValueNode)
	if !ok || mv.Key == nil || mv.Value == nil {
		return v
	}
	key := mv.Key.GetToken().Value
	check := func(s string) error {
		switch {
		case moneyKeys[key]:
			var m gateway.Money
			return m.UnmarshalText([]byte(s))
		case durationKeys[key]:
			var d gateway.Duration
			return d.UnmarshalText([]byte(s))
		}
		return nil
	}
	values := []ast.Node{mv.Value}
	if seq, ok := mv.Value.(*ast.SequenceNode); ok {
		values = seq.Values
	}
	for _, val := range values {
		if _, scalar := val.(ast.ScalarNode); !scalar || val.GetToken() == nil {
			continue
		}
		if check(val.GetToken().Value) != nil {
			v.node = val
			return nil
		}
	}
	return v
}

// lineOf finds the line of a `a.b[2].c` path in the document, or "" if it is absent
// (a missing field has no line of its own).
func lineOf(b []byte, p string) string { return lineOfPath(b, "$."+p) }

// lineOfPath is lineOf for a full YAML path ("$.a[1].b" or "$[1].b").
func lineOfPath(b []byte, p string) string {
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return ""
	}
	for p != "$" && p != "" {
		yp, err := yaml.PathString(p)
		if err == nil {
			if n, err := yp.FilterFile(f); err == nil && n != nil {
				return fmt.Sprintf("%d:", n.GetToken().Position.Line)
			}
		}
		// Fall back to the nearest parent that exists.
		i := strings.LastIndexAny(p, ".[")
		if i <= 1 {
			break
		}
		p = p[:i]
	}
	return ""
}

func fieldErr(path, format string, args ...any) error {
	return &scenarios.FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (c *Config) validate() error {
	if c.TokenLifetime <= 0 {
		return fieldErr("token_lifetime", "must be a positive duration such as 30m")
	}
	if c.DepositExpiry < 0 {
		return fieldErr("deposit_expiry", "must be 0 (off) or a positive duration such as 15m")
	}
	// Deposits auto-settle with the outcomes a deposit settles with (completed, fail).
	if settle := gateway.SettleOutcomes(gateway.KindDeposit); c.AutoSettle != "" && !slices.Contains(settle, gateway.OutcomeKind(c.AutoSettle)) {
		return fieldErr("auto_settle", "must be empty, %s, not %q", gateway.OneOf(settle), c.AutoSettle)
	}
	if _, err := gateway.ParseProfile(string(c.Profile)); err != nil {
		return fieldErr("profile", "%s", err)
	}
	if c.Profile == "" {
		c.Profile = gateway.ProfileDocument
	}
	if err := c.Callbacks.validate(); err != nil {
		return err
	}
	if len(c.Merchants) == 0 {
		return fieldErr("merchants", "at least one merchant is needed")
	}
	names := map[string]bool{}
	for i, m := range c.Merchants {
		if err := c.validateMerchant(fmt.Sprintf("merchants[%d]", i), m, names); err != nil {
			return err
		}
	}
	for code := range c.Banks {
		if err := checkBanks("banks."+code, c.BankList(code)); err != nil {
			return err
		}
	}
	return scenarios.Validate(c.Scenarios)
}

// validate checks the callbacks: section.
func (cb Callbacks) validate() error {
	if len(cb.Schedule) == 0 {
		return fieldErr("callbacks.schedule", "needs at least one attempt")
	}
	if cb.Timeout <= 0 {
		return fieldErr("callbacks.timeout", "must be a positive duration")
	}
	if cb.Concurrency < 1 || cb.Concurrency > 256 {
		return fieldErr("callbacks.concurrency", "must be between 1 and 256")
	}
	if cb.PerHost < 0 || cb.PerHost > cb.Concurrency {
		return fieldErr("callbacks.per_host", "must be between 0 (a quarter of concurrency) and concurrency (%d)", cb.Concurrency)
	}
	return nil
}

// validateMerchant checks one merchant entry at path at; names holds the usernames
// and aliases of the merchants before it, and gets this one's.
func (c *Config) validateMerchant(at string, m MerchantConfig, names map[string]bool) error {
	if m.Username == "" {
		return fieldErr(at+".username", "is required")
	}
	// A merchant's names and keys are the vendor fields' values: the same limits and
	// encoding (gateway.CheckField), so every merchant can be named in a request.
	for field, v := range map[string]string{"username": m.Username, "api_key": m.APIKey, "secret_key": m.SecretKey} {
		if err := gateway.CheckField(field, v); err != nil {
			return fieldErr(at+"."+field, "%s", err)
		}
	}
	for j, a := range m.Aliases {
		if err := gateway.CheckField("username", a); err != nil || a == "" {
			return fieldErr(fmt.Sprintf("%s.aliases[%d]", at, j), "an alias is a username: 1 to %d bytes of UTF-8 without control characters", gateway.MaxFieldBytes("username"))
		}
	}
	for _, n := range append([]string{m.Username}, m.Aliases...) {
		if names[n] {
			return fieldErr(at+".username", "%q names two merchants", n)
		}
		names[n] = true
	}
	if m.APIKey == "" {
		return fieldErr(at+".api_key", "is required")
	}
	if err := gateway.CheckCallbackURL(m.CallbackURL); err != nil {
		return fieldErr(at+".callback_url", "%s", err)
	}
	if m.PaymentType != "" && !gateway.ValidPaymentType(m.PaymentType) {
		return fieldErr(at+".payment_type", "must be a channel (bank, duitnow, ewallet) or a word of at most 32 characters without control characters or surrounding spaces, not %.40q", m.PaymentType)
	}
	if err := gateway.CheckDialect(m.Dialect); err != nil {
		return fieldErr(at+".dialect", "%s", err)
	}
	if m.Profile != "" {
		if _, err := gateway.ParseProfile(string(m.Profile)); err != nil {
			return fieldErr(at+".profile", "%s", err)
		}
	}
	if err := gateway.CheckCallbackURL(m.CallbackURL); err != nil {
		return fieldErr(at+".callback_url", "%s", err)
	}
	if m.SecretKey == "" {
		return fieldErr(at+".secret_key", "is required (callback tokens are md5(secret_key + order id))")
	}
	if len(m.Currencies) == 0 {
		return fieldErr(at+".currencies", "at least one currency is needed")
	}
	seen := map[string]bool{}
	for j, cur := range m.Currencies {
		cat := fmt.Sprintf("%s.currencies[%d]", at, j)
		if seen[cur.Code] { // a code seen before has passed the format check
			return fieldErr(cat+".code", "%s is listed twice", cur.Code)
		}
		if err := c.validateCurrency(cat, cur); err != nil {
			return err
		}
		seen[cur.Code] = true
	}
	return nil
}

// validateCurrency checks one currency of a merchant at path cat.
func (c *Config) validateCurrency(cat string, cur gateway.Currency) error {
	if !ValidCurrencyCode(cur.Code) {
		return fieldErr(cat+".code", "%.16q is not a currency code of 3 to 5 upper-case letters or digits (MYR, BDT, USDT)", cur.Code)
	}
	if cur.Min <= 0 || cur.Max < cur.Min {
		return fieldErr(cat+".max", "limits must satisfy 0 < min <= max (min %s, max %s)", cur.Min, cur.Max)
	}
	if cur.StartBalance < 0 {
		return fieldErr(cat+".start_balance", "must not be negative (%s)", cur.StartBalance)
	}
	if cur.DepositChargePercent < 0 || cur.DepositChargePercent > gateway.MustMoney("100") {
		return fieldErr(cat+".deposit_charge_percent", "must be between 0 and 100")
	}
	// Payout callbacks print the fee with two places ("5.00"); a finer fee would
	// be spent in the ledger as one amount and reported as another.
	if cur.PayoutFee < 0 || cur.PayoutFee.Places() > 2 {
		return fieldErr(cat+".payout_fee", "must be a non-negative amount with at most two decimals (the payout callback writes \"5.00\"), not %s", cur.PayoutFee)
	}
	if len(cur.Banks) > 0 {
		return checkBanks(cat+".banks", cur.Banks)
	}
	// THB and IDR deposits name the customer's bank: such a currency needs a list.
	// Others may have none (a USDT merchant): their payouts then answer bank_id invalid.
	if len(c.Banks[cur.Code]) == 0 && gateway.NeedsBank(cur.Code) {
		return fieldErr(cat+".code", "no banks are listed for %s under banks: or the currency's banks:", cur.Code)
	}
	return nil
}

// MaxBanks bounds one currency's bank list.
const MaxBanks = 500

// checkBanks checks a bank list at path at: names and ids present, ids unique and
// within bank_id's limit, at most MaxBanks.
func checkBanks(at string, banks []gateway.Bank) error {
	if len(banks) > MaxBanks {
		return fieldErr(at, "lists %d banks; at most %d", len(banks), MaxBanks)
	}
	ids := map[string]bool{}
	for j, b := range banks {
		bat := fmt.Sprintf("%s[%d]", at, j)
		if strings.TrimSpace(b.Name) == "" || gateway.CheckField("holder_name", b.Name) != nil {
			return fieldErr(bat, "bank name is empty, over 255 bytes or has control characters")
		}
		if b.ID == "" || gateway.CheckField("bank_id", b.ID) != nil {
			return fieldErr(bat+".id", "bank id is empty, over 16 bytes or has control characters")
		}
		if ids[b.ID] {
			return fieldErr(bat+".id", "bank id %q is listed twice", b.ID)
		}
		ids[b.ID] = true
	}
	return nil
}

// ValidCurrencyCode reports whether code is 3 to 5 upper-case letters or digits: the
// family serves USDT and BDT beside the document's currencies (docs/fidelity.md, family).
func ValidCurrencyCode(code string) bool {
	if len(code) < 3 || len(code) > 5 {
		return false
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// MerchantList turns the merchant entries into domain merchants.
func (c *Config) MerchantList() []gateway.Merchant {
	out := make([]gateway.Merchant, len(c.Merchants))
	for i, m := range c.Merchants {
		out[i] = gateway.Merchant{Username: m.Username, Aliases: m.Aliases, APIKey: m.APIKey,
			SecretKey: m.SecretKey, CallbackURL: m.CallbackURL, Currencies: slices.Clone(m.Currencies),
			PaymentType: m.PaymentType, Profile: m.Profile, DialectOverrides: maps.Clone(m.Dialect)}
		for j := range out[i].Currencies {
			out[i].Currencies[j].Banks = withCurrency(m.Currencies[j].Code, m.Currencies[j].Banks)
		}
	}
	return out
}

// withCurrency is a copy of banks with their currency set.
func withCurrency(code string, banks []gateway.Bank) []gateway.Bank {
	if banks == nil {
		return nil
	}
	out := slices.Clone(banks)
	for i := range out {
		out[i].Currency = code
	}
	return out
}

// BankList returns the banks of a currency: ids as given, or numbered from "1" by
// position.
func (c *Config) BankList(code string) []gateway.Bank {
	entries := c.Banks[code]
	out := make([]gateway.Bank, len(entries))
	for i, e := range entries {
		id := e.ID
		if id == "" {
			id = fmt.Sprint(i + 1)
		}
		out[i] = gateway.Bank{ID: id, Currency: code, Name: e.Name}
	}
	return out
}

// Duration is the config's duration type ("30m", "2s").
type Duration = scenarios.Duration

// ErrNoRules is a rule document that holds no list: empty, only comments, or null.
var ErrNoRules = errors.New("no rules given: the body is empty or holds no list; to clear every rule send an explicit empty list, `rules: []`")

// ParseRules reads scenario rules sent to the admin API: a YAML list of rules, or a
// document with a `scenarios:` (or `rules:`) list. Errors name the line, as at
// start-up. A document with no list at all is refused (ErrNoRules): clearing the
// rules takes an explicit empty list.
func ParseRules(name string, b []byte) ([]scenarios.Rule, error) {
	f, err := checkDocument(b, "scenarios", "rules")
	if err != nil {
		return nil, decodeError(name, b, err)
	}
	var rules []scenarios.Rule
	var doc struct {
		Scenarios *[]scenarios.Rule `yaml:"scenarios"`
		Rules     *[]scenarios.Rule `yaml:"rules"`
	}
	prefix := "$"
	if err := decodeParsed(f, b, &rules); err != nil {
		if err2 := decodeParsed(f, b, &doc); err2 != nil {
			return nil, decodeError(name, b, err)
		}
		switch {
		case doc.Scenarios != nil && doc.Rules != nil:
			return nil, fmt.Errorf("%s: give the list as scenarios: or rules:, not both", name)
		case doc.Scenarios != nil:
			rules, prefix = *doc.Scenarios, "$.scenarios"
		case doc.Rules != nil:
			rules, prefix = *doc.Rules, "$.rules"
		}
	}
	if rules == nil {
		// An empty body, a document of comments, null, or a key with no list: most
		// likely a file that was not sent (curl --data-binary @missing.yaml sends
		// nothing), so it must not wipe every rule.
		return nil, fmt.Errorf("%s: %w", name, ErrNoRules)
	}
	if err := scenarios.Validate(rules); err != nil {
		var fe *scenarios.FieldError
		if errors.As(err, &fe) {
			p := strings.TrimPrefix(fe.Path, "scenarios")
			return nil, fmt.Errorf("%s:%s %s: %s", name, lineOfPath(b, prefix+p), fe.Path, fe.Msg)
		}
		return nil, err
	}
	return rules, nil
}

// unmarshal decodes strictly (unknown fields are errors) and turns a panic of the YAML
// decoder into an error: fuzzing found inputs ("! 00" into a list) that crash it, and
// the admin API feeds it whatever a client sends.
func unmarshal(b []byte, v any) (err error) {
	if err := checkNesting(b); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("not a YAML document this sandbox can read (%v)", p)
		}
	}()
	return yaml.UnmarshalWithOptions(b, v, yaml.Strict())
}

// maxNesting bounds how deep a document's flow collections ([…], {…}) may nest. A
// config or a rule list needs a handful of levels; the YAML decoder spends seconds of
// CPU on a 30,000-deep "[[[…" that the admin API would otherwise accept from anyone.
const maxNesting = 64

// errTooDeep is a document refused by checkNesting.
var errTooDeep = fmt.Errorf("collections nest deeper than %d levels", maxNesting)

// checkNesting refuses a document whose brackets nest deeper than maxNesting, by one
// pass over its bytes (quoted strings and comments are skipped), before it is parsed.
func checkNesting(b []byte) error {
	depth, line := 0, 1
	var quote byte
	comment := false
	for i := 0; i < len(b); i++ {
		ch := b[i]
		switch {
		case ch == '\n':
			line++
			comment = false
			if quote == '\'' || quote == '"' {
				continue // a multi-line quoted scalar
			}
		case comment:
		case quote != 0:
			if ch == '\\' && quote == '"' {
				i++
			} else if ch == quote {
				quote = 0
			}
		case ch == '#' && (i == 0 || b[i-1] == ' ' || b[i-1] == '\t' || b[i-1] == '\n'):
			comment = true
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '[' || ch == '{':
			if depth++; depth > maxNesting {
				return fmt.Errorf("%d: %w", line, errTooDeep)
			}
		case ch == ']' || ch == '}':
			depth--
		}
	}
	return nil
}
