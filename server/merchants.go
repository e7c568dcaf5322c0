package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server/internal/cut"
	"github.com/vpay88/vpay88-sandbox/store"
)

// Merchants made at run time (POST /sandbox/api/merchants): one sandbox serves many
// CI pipelines, each on a merchant of its own, isolated as two real merchant accounts
// are: its own credentials, orders, balances, ledger and callback URL. They are stored
// with the state; configured merchants cannot be deleted.

// merchantView is a merchant as GET /sandbox/api/merchants lists it; the keys only
// when the caller proved to be an admin (--admin-token) or made the merchant.
type merchantView struct {
	*gateway.Merchant
	APIKey    string `json:"api_key,omitempty"`
	SecretKey string `json:"secret_key,omitempty"`
	// Runtime says the merchant was made through the admin API (deletable).
	Runtime bool `json:"runtime"`
	// Effective is the merchant's dialect in force: the profile's preset and the
	// merchant's own switches (dialect) over it.
	Effective map[string]string `json:"effective_dialect"`
}

// viewOf is m as the merchants API shows it; keys only when withKeys.
func (s *Server) viewOf(m *gateway.Merchant, runtime, withKeys bool) merchantView {
	v := merchantView{Merchant: m, Runtime: runtime, Effective: s.dialect(m).Map()}
	if withKeys {
		v.APIKey, v.SecretKey = m.APIKey, m.SecretKey
	}
	return v
}

// indexMerchant makes m known by username and aliases; callers hold mu (or run
// before the server serves).
func (s *Server) indexMerchant(m *gateway.Merchant, runtime bool) {
	s.merchants[m.Username] = m
	s.byName[m.Username] = m
	for _, a := range m.Aliases {
		s.byName[a] = m
	}
	if runtime {
		s.runtime = append(s.runtime, m.Username)
	}
	s.namesVersion.Add(1)
}

// eachMerchant calls fn with every merchant, configured ones first in the file's
// order, then run-time ones, oldest first; it holds mu (read) meanwhile.
func (s *Server) eachMerchant(fn func(m *gateway.Merchant, runtime bool)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, mc := range s.cfg.Merchants {
		fn(s.merchants[mc.Username], false)
	}
	for _, name := range s.runtime {
		fn(s.merchants[name], true)
	}
}

// openingBalances are a merchant's balances at start or after a reset.
func openingBalances(m *gateway.Merchant) []store.Balance {
	out := make([]store.Balance, 0, len(m.Currencies))
	for _, c := range m.Currencies {
		out = append(out, store.Balance{Merchant: m.Username, Currency: c.Code, Available: c.StartBalance})
	}
	return out
}

// unindexMerchant forgets a run-time merchant.
func (s *Server) unindexMerchant(m *gateway.Merchant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.merchants, m.Username)
	delete(s.byName, m.Username)
	for _, a := range m.Aliases {
		delete(s.byName, a)
	}
	s.runtime = slices.DeleteFunc(s.runtime, func(n string) bool { return n == m.Username })
	s.namesVersion.Add(1)
}

// loadRuntimeMerchants indexes the run-time merchants a previous run stored.
func (s *Server) loadRuntimeMerchants() ([]store.Balance, error) {
	list, err := s.store.RuntimeMerchants()
	if err != nil {
		return nil, err
	}
	var opening []store.Balance
	for _, rm := range list {
		m := rm.Merchant
		if s.byName[m.Username] != nil {
			// The config file now names a merchant the same: the file wins.
			s.log.Warn("run-time merchant shadowed by the config file; delete it or rename the configured one", "merchant", m.Username)
			continue
		}
		s.indexMerchant(&m, true)
		opening = append(opening, openingBalances(&m)...)
	}
	return opening, nil
}

// currencyRequest is one entry of a POST's currencies: a code, or the code with
// settings that replace the defaults (those of the first configured merchant with it).
type currencyRequest struct {
	Code                 string         `json:"currency"`
	CodeAlias            string         `json:"code"`
	Min                  *gateway.Money `json:"min"`
	Max                  *gateway.Money `json:"max"`
	DepositChargePercent *gateway.Money `json:"deposit_charge_percent"`
	PayoutFee            *gateway.Money `json:"payout_fee"`
	StartBalance         *gateway.Money `json:"start_balance"`
	// Banks replace the configured bank list of the currency for this merchant.
	Banks []bankRequest `json:"banks"`
}

// bankRequest is one bank of a POST's currency: {id, name} (bank_name is read too,
// as the bank lists write it).
type bankRequest struct {
	ID       json.RawMessage `json:"id"`
	Name     string          `json:"name"`
	BankName string          `json:"bank_name"`
}

// bank is the request's bank of currency code; ids may be JSON strings or numbers
// (800), kept as the digits written.
func (b bankRequest) bank(code string) gateway.Bank {
	id := strings.TrimSpace(string(b.ID))
	var str string
	if json.Unmarshal(b.ID, &str) == nil {
		id = str
	}
	name := b.Name
	if name == "" {
		name = b.BankName
	}
	return gateway.Bank{Currency: code, ID: id, Name: name}
}

// maxRequestCurrencies bounds a POST's currencies.
const maxRequestCurrencies = 64

func (r *currencyRequest) UnmarshalJSON(b []byte) error {
	var code string
	if json.Unmarshal(b, &code) == nil {
		*r = currencyRequest{Code: code}
		return nil
	}
	type plain currencyRequest
	return json.Unmarshal(b, (*plain)(r))
}

// merchantRequest is a parsed POST /sandbox/api/merchants.
type merchantRequest struct {
	Username    string            `json:"username"`
	APIKey      string            `json:"api_key"`
	SecretKey   string            `json:"secret_key"`
	CallbackURL string            `json:"callback_url"`
	PaymentType string            `json:"payment_type"`
	Currencies  []currencyRequest `json:"currencies"`
	// Dialect sets the merchant's own values of dialect switches; form requests send
	// them as dialect.<switch>=<value>. Profile is the preset they start from.
	Dialect map[string]string `json:"dialect"`
	Profile string            `json:"profile"`
}

// readJSONBody decodes a JSON request body into v (an empty body leaves v alone) and
// reports true; false when the request is not JSON (a form, read by the caller).
func readJSONBody(c echo.Context, v any, what string) (bool, error) {
	ct, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if ct != echo.MIMEApplicationJSON {
		return false, nil
	}
	body, err := readBody(c)
	if err != nil {
		return true, err
	}
	// encoding/json turns invalid UTF-8 inside a string into U+FFFD, so a name checked
	// after decoding would pass: the raw body is checked first, as the form path does.
	if !utf8.Valid(body) {
		return true, fail(http.StatusBadRequest, "the body must be "+what+" in UTF-8: it holds invalid UTF-8")
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, v); err != nil {
			return true, fail(http.StatusBadRequest, "the body must be "+what+": "+err.Error())
		}
	}
	return true, nil
}

func parseMerchantRequest(c echo.Context) (merchantRequest, error) {
	var req merchantRequest
	if isJSON, err := readJSONBody(c, &req, "a JSON merchant"); isJSON || err != nil {
		return req, err
	}
	f, err := adminFields(c)
	if err != nil {
		return req, err
	}
	req = merchantRequest{Username: f.Get("username"), APIKey: f.Get("api_key"), SecretKey: f.Get("secret_key"),
		CallbackURL: f.Get("callback_url"), PaymentType: f.Get("payment_type"), Dialect: formDialect(f), Profile: f.Get("profile")}
	for _, v := range append(f["currencies"], f["currency"]...) {
		for _, code := range strings.Split(v, ",") {
			if code = strings.TrimSpace(code); code != "" {
				req.Currencies = append(req.Currencies, currencyRequest{Code: code})
			}
		}
	}
	return req, nil
}

// formDialect reads the dialect.<switch> fields of a form request.
func formDialect(f map[string][]string) map[string]string {
	var out map[string]string
	for k, v := range f {
		if sw, ok := strings.CutPrefix(k, "dialect."); ok && len(v) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[sw] = v[0]
		}
	}
	return out
}

// newMerchant builds the merchant a request asks for: random credentials where none
// are given, the first configured merchant's currencies where none are named.
func (s *Server) newMerchant(req merchantRequest) (config.MerchantConfig, error) {
	m := config.MerchantConfig{Username: req.Username, APIKey: req.APIKey, SecretKey: req.SecretKey,
		CallbackURL: req.CallbackURL, PaymentType: req.PaymentType, Dialect: req.Dialect, Profile: gateway.Profile(req.Profile)}
	if m.Username == "" {
		m.Username = "m-" + strings.ToLower(randomString(10))
	}
	if m.APIKey == "" {
		m.APIKey = randomString(20) // the shape of the vendor's example key
	}
	if m.SecretKey == "" {
		m.SecretKey = randomString(32)
	}
	defaults := s.currencyDefaults()
	if len(req.Currencies) == 0 {
		m.Currencies = slices.Clone(s.cfg.Merchants[0].Currencies)
	}
	if len(req.Currencies) > maxRequestCurrencies {
		return m, fail(http.StatusBadRequest, fmt.Sprintf("a merchant has at most %d currencies", maxRequestCurrencies))
	}
	for _, r := range req.Currencies {
		code := r.Code
		if code == "" {
			code = r.CodeAlias
		}
		code = strings.ToUpper(code)
		cur, ok := defaults[code]
		if !ok {
			// A currency the config does not have (USDT, BDT: docs/fidelity.md, family): its limits
			// must be given; charge, fee and opening balance default as the
			// vendor's (3 %, 5, 1,000,000).
			if r.Min == nil || r.Max == nil {
				return m, fail(http.StatusBadRequest, fmt.Sprintf("currency %.16q is not in the config file: give its min and max (and banks: [{id, name}] for payouts), e.g. {\"code\":\"USDT\",\"min\":10,\"max\":5000}", code))
			}
			cur = gateway.Currency{Code: code, DepositChargePercent: gateway.MustMoney("3"), PayoutFee: gateway.MustMoney("5"),
				StartBalance: gateway.MustMoney("1000000")}
		}
		for _, set := range []struct {
			v   *gateway.Money
			dst *gateway.Money
		}{{r.Min, &cur.Min}, {r.Max, &cur.Max}, {r.DepositChargePercent, &cur.DepositChargePercent}, {r.PayoutFee, &cur.PayoutFee}, {r.StartBalance, &cur.StartBalance}} {
			if set.v != nil {
				*set.dst = *set.v
			}
		}
		if r.Banks != nil {
			if len(r.Banks) > config.MaxBanks {
				return m, fail(http.StatusBadRequest, fmt.Sprintf("currency %s lists %d banks; at most %d", code, len(r.Banks), config.MaxBanks))
			}
			cur.Banks = make([]gateway.Bank, len(r.Banks))
			for i, b := range r.Banks {
				cur.Banks[i] = b.bank(code)
			}
		}
		m.Currencies = append(m.Currencies, cur)
	}
	if err := gateway.CheckCallbackURL(m.CallbackURL); err != nil {
		return m, fail(http.StatusBadRequest, "callback_url "+err.Error())
	}
	return m, nil
}

// currencyDefaults are the settings of each configured currency: the first
// configured merchant's that has it.
func (s *Server) currencyDefaults() map[string]gateway.Currency {
	out := map[string]gateway.Currency{}
	for _, m := range s.cfg.Merchants {
		for _, c := range m.Currencies {
			if _, ok := out[c.Code]; !ok {
				out[c.Code] = c
			}
		}
	}
	return out
}

// handleAddMerchant is POST /sandbox/api/merchants.
func (s *Server) handleAddMerchant(c echo.Context) error {
	req, err := parseMerchantRequest(c)
	if err != nil {
		return err
	}
	mc, err := s.newMerchant(req)
	if err != nil {
		return err
	}
	// adminMu, not mu, is held across the store write: a commit in progress may need
	// mu (it reads the merchants), and must not wait for this request.
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.mu.RLock()
	taken := map[string]bool{}
	for name := range s.byName {
		taken[name] = true
	}
	s.mu.RUnlock()
	if err := s.cfg.CheckMerchant(mc, taken); err != nil {
		if strings.Contains(err.Error(), "names two merchants") {
			return fail(http.StatusConflict, "merchant "+mc.Username+" exists")
		}
		return fail(http.StatusBadRequest, err.Error())
	}
	m := gateway.Merchant{Username: mc.Username, APIKey: mc.APIKey, SecretKey: mc.SecretKey,
		CallbackURL: mc.CallbackURL, Currencies: mc.Currencies, PaymentType: mc.PaymentType, Profile: mc.Profile, DialectOverrides: mc.Dialect}
	switch err := s.store.PutMerchant(m); {
	case errors.Is(err, store.ErrMerchantExists):
		return fail(http.StatusConflict, "merchant "+mc.Username+" exists")
	case err != nil:
		return err
	}
	s.mu.Lock()
	s.indexMerchant(&m, true)
	s.mu.Unlock()
	s.events.Publish("merchant")
	s.log.Info("merchant created", "merchant", m.Username, "callback_url", m.CallbackURL)
	return c.JSON(http.StatusCreated, s.viewOf(&m, true, true))
}

// handleAdminMerchants is GET /sandbox/api/merchants: configured merchants first, in
// the file's order, then run-time ones, oldest first. Keys are listed only behind
// --admin-token: without one, anybody who can reach the port can list.
//
// With ?offset= or ?limit= it answers one page (limit 50 by default, at most 500) and
// the total: the dashboard reads a page, not the whole list, on every merchant change.
// ?names=1 answers only the usernames and the currency codes, for the filters, with
// names_version, which changes when a merchant is made or deleted (not edited).
func (s *Server) handleAdminMerchants(c echo.Context) error {
	paged := c.QueryParam("offset") != "" || c.QueryParam("limit") != ""
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	if c.QueryParam("names") != "" {
		names, codes := []string{}, map[string]bool{}
		s.eachMerchant(func(m *gateway.Merchant, _ bool) {
			names = append(names, m.Username)
			for _, cur := range m.Currencies {
				codes[cur.Code] = true
			}
		})
		currencies := slices.Sorted(maps.Keys(codes))
		return c.JSON(http.StatusOK, map[string]any{"names": names, "currencies": currencies, "names_version": s.namesVersion.Load()})
	}
	out := []merchantView{}
	i := 0
	s.eachMerchant(func(m *gateway.Merchant, runtime bool) {
		if !paged || (i >= offset && i < offset+limit) {
			out = append(out, s.viewOf(m, runtime, s.adminToken != ""))
		}
		i++
	})
	return c.JSON(http.StatusOK, map[string]any{"merchants": out, "total": i, "offset": offset, "names_version": s.namesVersion.Load()})
}

// merchantPatch is a parsed PATCH /sandbox/api/merchants/{name}: nil fields are left
// as they are.
type merchantPatch struct {
	CallbackURL *string `json:"callback_url"`
	// Profile is the merchant's own profile; "" goes back to the sandbox's.
	Profile *string `json:"profile"`
	// Dialect sets switches; a value "" (or null) removes the merchant's own value,
	// so the profile's applies again.
	Dialect map[string]string `json:"dialect"`
}

func parseMerchantPatch(c echo.Context) (merchantPatch, error) {
	var p merchantPatch
	if isJSON, err := readJSONBody(c, &p, "a JSON object {callback_url, dialect}"); isJSON || err != nil {
		return p, err
	}
	f, err := adminFields(c)
	if err != nil {
		return p, err
	}
	if _, ok := f["callback_url"]; ok {
		u := f.Get("callback_url")
		p.CallbackURL = &u
	}
	if _, ok := f["profile"]; ok {
		pr := f.Get("profile")
		p.Profile = &pr
	}
	p.Dialect = formDialect(f)
	return p, nil
}

// handlePatchMerchant is PATCH /sandbox/api/merchants/{username}: a merchant's callback
// URL and dialect switches, configured merchants included. The change is stored with
// the state and applied again at every start, over the config file; it goes with a
// deleted run-time merchant. Callbacks stored before it keep their URL and body;
// POST …/callback/resend sends one again as the merchant is now.
func (s *Server) handlePatchMerchant(c echo.Context) error {
	p, err := parseMerchantPatch(c)
	if err != nil {
		return err
	}
	if p.CallbackURL == nil && p.Dialect == nil && p.Profile == nil {
		return fail(http.StatusBadRequest, "nothing to change: send callback_url, profile and/or dialect")
	}
	if p.Profile != nil && len(*p.Profile) > 16 {
		return fail(http.StatusBadRequest, "profile must be document or observed")
	}
	if len(p.Dialect) > 2*len(gateway.Switches()) {
		return fail(http.StatusBadRequest, fmt.Sprintf("dialect names at most %d switches", len(gateway.Switches())))
	}
	name := c.Param("username")
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.mu.RLock()
	m := s.byName[name]
	runtime := m != nil && slices.Contains(s.runtime, m.Username)
	s.mu.RUnlock()
	if m == nil {
		return fail(http.StatusNotFound, "unknown merchant "+cut.To(name, 200))
	}
	nm := *m
	if p.CallbackURL != nil {
		if err := gateway.CheckCallbackURL(*p.CallbackURL); err != nil {
			return fail(http.StatusBadRequest, "callback_url: "+err.Error())
		}
		nm.CallbackURL = *p.CallbackURL
	}
	if p.Profile != nil {
		if *p.Profile != "" {
			if _, err := gateway.ParseProfile(*p.Profile); err != nil {
				return fail(http.StatusBadRequest, "profile: "+err.Error())
			}
		}
		nm.Profile = gateway.Profile(*p.Profile)
	}
	if p.Dialect != nil {
		d := maps.Clone(m.DialectOverrides)
		if d == nil {
			d = map[string]string{}
		}
		for k, v := range p.Dialect {
			if v == "" {
				delete(d, k)
			} else {
				d[k] = v
			}
		}
		if err := gateway.CheckDialect(d); err != nil {
			return fail(http.StatusBadRequest, err.Error())
		}
		if len(d) == 0 {
			d = nil
		}
		nm.DialectOverrides = d
	}
	switch err := s.store.PutMerchantEdit(nm.Username, store.MerchantEdit{CallbackURL: nm.CallbackURL, Profile: string(nm.Profile), Dialect: nm.DialectOverrides}); {
	case errors.Is(err, store.ErrMerchantGone):
		return fail(http.StatusNotFound, "unknown merchant "+cut.To(name, 200))
	case err != nil:
		return err
	}
	// Requests in flight keep the merchant they found: it is replaced, not changed.
	s.mu.Lock()
	s.replaceMerchant(&nm)
	s.mu.Unlock()
	s.events.Publish("merchant")
	s.log.Info("merchant changed", "merchant", nm.Username, "callback_url", nm.CallbackURL, "dialect", nm.DialectOverrides)
	return c.JSON(http.StatusOK, s.viewOf(&nm, runtime, s.adminToken != ""))
}

// replaceMerchant puts m in place of the merchant of its username; callers hold mu
// (or run before the server serves).
func (s *Server) replaceMerchant(m *gateway.Merchant) {
	s.merchants[m.Username] = m
	s.byName[m.Username] = m
	for _, a := range m.Aliases {
		s.byName[a] = m
	}
}

// applyMerchantEdits applies the edits a previous run stored (PATCH) to the merchants
// loaded from the config file and the store.
func (s *Server) applyMerchantEdits() error {
	edits, err := s.store.MerchantEdits()
	if err != nil {
		return err
	}
	for name, e := range edits {
		m := s.merchants[name]
		if m == nil {
			continue // a configured merchant no longer in the config file
		}
		nm := *m
		nm.CallbackURL, nm.Profile, nm.DialectOverrides = e.CallbackURL, gateway.Profile(e.Profile), e.Dialect
		if err := gateway.CheckDialect(nm.DialectOverrides); err != nil {
			s.log.Warn("stored merchant edit ignored", "merchant", name, "err", err)
			continue
		}
		s.replaceMerchant(&nm)
	}
	return nil
}

// handleDialects is GET /sandbox/api/dialects: the switch table and the profile in
// force, for the dashboard's editor and for anyone writing a merchant's dialect.
func (s *Server) handleDialects(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"profile": s.cfg.Profile, "switches": gateway.Switches()})
}

// handleDeleteMerchant is DELETE /sandbox/api/merchants/{username}: a run-time
// merchant goes with everything it owns; a configured one is refused (409).
func (s *Server) handleDeleteMerchant(c echo.Context) error {
	name := c.Param("username")
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.mu.RLock()
	m := s.byName[name]
	runtime := m != nil && slices.Contains(s.runtime, m.Username)
	s.mu.RUnlock()
	switch {
	case m == nil:
		return fail(http.StatusNotFound, "unknown merchant "+name)
	case !runtime:
		return fail(http.StatusConflict, "merchant "+m.Username+" is in the config file: only merchants made at run time can be deleted")
	}
	// Unknown first, so no new request starts as it; then its state goes.
	s.unindexMerchant(m)
	if err := s.store.DeleteMerchant(m.Username); err != nil {
		s.mu.Lock()
		s.indexMerchant(m, true)
		s.mu.Unlock()
		return err
	}
	s.events.Publish("merchant")
	s.events.Publish("order")
	s.log.Info("merchant deleted", "merchant", m.Username)
	return c.JSON(http.StatusOK, map[string]string{"deleted": m.Username})
}
