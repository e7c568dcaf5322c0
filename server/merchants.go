package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
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
}

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
}

func parseMerchantRequest(c echo.Context) (merchantRequest, error) {
	var req merchantRequest
	ct, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if ct == echo.MIMEApplicationJSON {
		body, err := readBody(c)
		if err != nil {
			return req, err
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				return req, fail(http.StatusBadRequest, "the body must be a JSON merchant: "+err.Error())
			}
		}
		return req, nil
	}
	f, err := adminFields(c)
	if err != nil {
		return req, err
	}
	req = merchantRequest{Username: f.Get("username"), APIKey: f.Get("api_key"), SecretKey: f.Get("secret_key"),
		CallbackURL: f.Get("callback_url"), PaymentType: f.Get("payment_type")}
	for _, v := range append(f["currencies"], f["currency"]...) {
		for _, code := range strings.Split(v, ",") {
			if code = strings.TrimSpace(code); code != "" {
				req.Currencies = append(req.Currencies, currencyRequest{Code: code})
			}
		}
	}
	return req, nil
}

// newMerchant builds the merchant a request asks for: random credentials where none
// are given, the first configured merchant's currencies where none are named.
func (s *Server) newMerchant(req merchantRequest) (config.MerchantConfig, error) {
	m := config.MerchantConfig{Username: req.Username, APIKey: req.APIKey, SecretKey: req.SecretKey,
		CallbackURL: req.CallbackURL, PaymentType: req.PaymentType}
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
	for _, r := range req.Currencies {
		code := strings.ToUpper(r.Code)
		if code == "" {
			code = strings.ToUpper(r.CodeAlias)
		}
		cur, ok := defaults[code]
		if !ok {
			return m, fail(http.StatusBadRequest, "currency "+code+" is not one the sandbox is configured for (its bank lists and limits come from the config file)")
		}
		for _, set := range []struct {
			v   *gateway.Money
			dst *gateway.Money
		}{{r.Min, &cur.Min}, {r.Max, &cur.Max}, {r.DepositChargePercent, &cur.DepositChargePercent}, {r.PayoutFee, &cur.PayoutFee}, {r.StartBalance, &cur.StartBalance}} {
			if set.v != nil {
				*set.dst = *set.v
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
		CallbackURL: mc.CallbackURL, Currencies: mc.Currencies, PaymentType: mc.PaymentType}
	switch err := s.store.PutMerchant(m); {
	case errors.Is(err, store.ErrMerchantExists):
		return fail(http.StatusConflict, "merchant "+mc.Username+" exists")
	case err != nil:
		return err
	}
	s.mu.Lock()
	s.indexMerchant(&m, true)
	s.mu.Unlock()
	s.events.publish("merchant")
	s.log.Info("merchant created", "merchant", m.Username, "callback_url", m.CallbackURL)
	return c.JSON(http.StatusCreated, merchantView{Merchant: &m, APIKey: m.APIKey, SecretKey: m.SecretKey, Runtime: true})
}

// handleAdminMerchants is GET /sandbox/api/merchants: configured merchants first, in
// the file's order, then run-time ones, oldest first. Keys are listed only behind
// --admin-token: without one, anybody who can reach the port can list.
func (s *Server) handleAdminMerchants(c echo.Context) error {
	out := []merchantView{}
	s.eachMerchant(func(m *gateway.Merchant, runtime bool) {
		v := merchantView{Merchant: m, Runtime: runtime}
		if s.adminToken != "" {
			v.APIKey, v.SecretKey = m.APIKey, m.SecretKey
		}
		out = append(out, v)
	})
	return c.JSON(http.StatusOK, map[string]any{"merchants": out})
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
	s.events.publish("merchant")
	s.events.publish("order")
	s.log.Info("merchant deleted", "merchant", m.Username)
	return c.JSON(http.StatusOK, map[string]string{"deleted": m.Username})
}
