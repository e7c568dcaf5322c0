package server

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// registerAPIRoutes mounts the eight vendor endpoints at their paths (gateway.Endpoint:
// note /wallet for the bank lists).
func (s *Server) registerAPIRoutes(e *echo.Echo) {
	g := e.Group("", s.journalAPI, s.injectFaults)
	// GET answers too, as the vendor's PHP would with an empty $_POST: "Params missing."
	// rather than a 404 that hides the real mistake (README, guessed behaviours).
	both := []string{http.MethodGet, http.MethodPost}
	handlers := map[gateway.Endpoint]echo.HandlerFunc{
		gateway.EndpointCurrency:            s.handleCurrency,
		gateway.EndpointAuth:                s.handleAuth,
		gateway.EndpointGenerateOrders:      s.handleGenerateOrders,
		gateway.EndpointWithdrawOrders:      s.handleWithdrawOrders,
		gateway.EndpointWithdrawBankList:    s.handleBankList,
		gateway.EndpointBankList:            s.handleBankList,
		gateway.EndpointCheckStatus:         s.handleCheckStatus(gateway.KindDeposit),
		gateway.EndpointCheckWithdrawStatus: s.handleCheckStatus(gateway.KindWithdrawal),
		gateway.EndpointGetBalance:          s.handleGetBalance,
	}
	for _, e := range gateway.Endpoints() {
		g.Match(both, e.Path(), handlers[e])
	}
}

// writeJSON answers without HTML escaping: p_url carries "&key=", which the vendor
// prints as is, where encoding/json would write "\u0026".
func writeJSON(c echo.Context, code int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	return c.Blob(code, echo.MIMEApplicationJSON, b)
}

// answer writes a vendor success: HTTP 200 and the answer's JSON.
func answer(c echo.Context, v any) error {
	exchangeOf(c).Message = "OK"
	return writeJSON(c, http.StatusOK, v)
}

// form reads the request's fields; it records them for the journal.
func form(c echo.Context) (url.Values, error) {
	v, err := formValues(c.Request())
	if err != nil {
		return nil, err
	}
	exchangeOf(c).Fields = v
	return v, nil
}

// merchantRequest reads a request that names a merchant by `username` (currency and
// the bank lists), or refuses it.
func (s *Server) merchantRequest(c echo.Context) (f url.Values, m *gateway.Merchant, err error) {
	if f, err = form(c); err != nil {
		return nil, nil, err
	}
	if gateway.AnyMissing(f, "username") {
		return nil, nil, gateway.Refuse(gateway.MsgParamsMissing)
	}
	if m = s.merchant(f.Get("username")); m == nil || gateway.AnyBad(f, "username") {
		return nil, nil, gateway.Refuse(gateway.MsgParamsIncorrect)
	}
	exchangeOf(c).Merchant = m.Username
	return f, m, nil
}

func (s *Server) handleCurrency(c echo.Context) error {
	_, m, err := s.merchantRequest(c)
	if err != nil {
		return err
	}
	rates := make([]gateway.Rate, 0, len(m.Currencies))
	for _, cur := range m.Currencies {
		rates = append(rates, gateway.Rate{Currency: cur.Code, Min: gateway.Number(cur.Min), Max: gateway.Number(cur.Max)})
	}
	return answer(c, gateway.CurrencyAnswer{Status: true, Rate: rates})
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString draws n characters of [A-Za-z0-9] from crypto/rand: tokens and page
// keys are credentials, so they never come from the seeded faker.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// credentials reads a request that names a merchant by username and api_key (auth,
// get_balance), or refuses it as auth does.
func (s *Server) credentials(c echo.Context) (*gateway.Merchant, error) {
	f, err := form(c)
	if err != nil {
		return nil, err
	}
	if gateway.AnyMissing(f, "username", "api_key") {
		return nil, gateway.Refuse(gateway.MsgParamsMissing)
	}
	m := s.merchant(f.Get("username"))
	if m == nil || m.APIKey != f.Get("api_key") || gateway.AnyBad(f, "username", "api_key") {
		return nil, gateway.Refuse(gateway.MsgParamsIncorrect)
	}
	exchangeOf(c).Merchant = m.Username
	return m, nil
}

func (s *Server) handleAuth(c echo.Context) error {
	m, err := s.credentials(c)
	if err != nil {
		return err
	}
	tok := randomString(20)
	switch err := s.store.PutToken(tok, m.Username, s.store.Now().Add(time.Duration(s.cfg.TokenLifetime))); {
	case errors.Is(err, store.ErrMerchantGone):
		return gateway.Refuse(gateway.MsgParamsIncorrect) // as its credentials are from now on
	case err != nil:
		return err
	}
	// Live answers carry a fresh gateway-made order_id beside the token (docs/fidelity.md, observed), in
	// both profiles: a client of the document ignores an extra field.
	return answer(c, gateway.AuthAnswer{Status: true, Auth: tok, OrderID: randomString(16)})
}

// dialect is merchant m's effective dialect: the profile's preset and its overrides.
func (s *Server) dialect(m *gateway.Merchant) gateway.Dialect { return m.Dialect(s.cfg.Profile) }

// depositBanks are the banks m's customers pay from in a currency: the merchant's own
// list for it, else the configured one.
func (s *Server) depositBanks(m *gateway.Merchant, currency string) []gateway.Bank {
	if cc, ok := m.Currency(currency); ok && len(cc.Banks) > 0 {
		return cc.Banks
	}
	return s.banks[currency]
}

// payoutBanks are the banks m's payouts go to: the merchant's own list, else the
// dialect's (the live MYR list under myr_payout_banks: live, docs/fidelity.md, observed), else the
// configured one.
func (s *Server) payoutBanks(m *gateway.Merchant, currency string) []gateway.Bank {
	if cc, ok := m.Currency(currency); ok && len(cc.Banks) > 0 {
		return cc.Banks
	}
	return s.dialect(m).WithdrawalBanks(currency, s.banks[currency])
}

// bankFinder looks banks up in one of m's lists (depositBanks or payoutBanks).
func bankFinder(m *gateway.Merchant, list func(*gateway.Merchant, string) []gateway.Bank) gateway.BankFinder {
	return func(currency, id string) (gateway.Bank, bool) { return findBank(list(m, currency), id) }
}

func findBank(banks []gateway.Bank, id string) (gateway.Bank, bool) {
	for _, b := range banks {
		if b.ID == id {
			return b, true
		}
	}
	return gateway.Bank{}, false
}

// decide runs the scenarios for an incoming order and applies added latency.
func (s *Server) decide(c echo.Context, o *gateway.Order) gateway.Decision {
	s.mu.RLock()
	d := s.ruleIndex.Decide(o)
	s.mu.RUnlock()
	if d.Latency > 0 {
		t := time.NewTimer(d.Latency)
		select {
		case <-t.C:
		case <-c.Request().Context().Done():
			t.Stop()
		}
	}
	return d
}

// defaults are the configured outcomes of orders no decision settles.
func (s *Server) defaults() gateway.Defaults {
	return gateway.Defaults{WithdrawalDelay: time.Duration(s.cfg.WithdrawalDelay),
		AutoSettle: gateway.OutcomeKind(s.cfg.AutoSettle), AutoSettleDelay: time.Duration(s.cfg.AutoSettleDelay),
		DepositExpiry: time.Duration(s.cfg.DepositExpiry)}
}

func (s *Server) orderCreated(o *gateway.Order) {
	s.metrics.orderCreated(o)
	s.events.Publish("order")
	s.afterCreate(o)
}

// afterCreate settles at once an order planned with no delay, before the answer, so a
// magic value's outcome is visible to the check_status that follows. The timer stored
// with the order covers a crash in between.
func (s *Server) afterCreate(o *gateway.Order) {
	if o.SettleOutcome == nil {
		return
	}
	if !o.SettleAt.After(s.store.Now()) {
		if _, err := s.settle(o.Kind, o.Merchant, o.OrderID, *o.SettleOutcome); err != nil && !errors.Is(err, store.ErrAlreadySettled) {
			if deletedMeanwhile(err) {
				s.log.Info("settle at once skipped: the order or its merchant was deleted", "order", o.OrderID, "err", err)
			} else {
				s.log.Error("settle at once", "order", o.OrderID, "err", err)
			}
		}
		return
	}
	s.kick()
}

func (s *Server) handleGenerateOrders(c echo.Context) error {
	f, err := form(c)
	if err != nil {
		return err
	}
	// The token's merchant is looked up before the first check, whose required
	// fields are the merchant's dialect's; an unknown token is refused after it.
	m, _ := s.tokenMerchant(f.Get("auth"), gateway.MsgParamsIncorrectDot)
	dl := s.cfg.Profile.Preset()
	if m != nil {
		dl = s.dialect(m)
	}
	if err := gateway.RequireDeposit(f, dl); err != nil {
		return err
	}
	if m == nil {
		return gateway.Refuse(gateway.MsgParamsIncorrectDot)
	}
	exchangeOf(c).Merchant = m.Username
	o, err := gateway.NewDeposit(f, m, bankFinder(m, s.depositBanks), dl, s.store.Now())
	if err != nil {
		return err
	}
	o.Key = randomString(16)
	d := s.decide(c, o)
	if d.Error != "" {
		return gateway.Refuse(d.Error)
	}
	if err := s.applyDecisionFault(c, d); err != nil {
		return err
	}
	gateway.Plan(o, d, s.defaults(), s.store.Now())
	switch err := s.store.CreateDeposit(o); {
	case errors.Is(err, store.ErrOrderExists):
		return gateway.Refuse(gateway.MsgOrderIDExist)
	case errors.Is(err, store.ErrMerchantGone):
		// Deleted while this request was in flight: its token is refused from now on.
		return gateway.Refuse(gateway.MsgParamsIncorrectDot)
	case err != nil:
		return err
	}
	s.orderCreated(o)
	return answer(c, gateway.PayURLAnswer{Status: true, PURL: s.payURL(c, o)})
}

// tokenMerchant is the merchant a live auth token belongs to, or the endpoint's
// refusal of an unknown or expired token.
func (s *Server) tokenMerchant(token, refusal string) (*gateway.Merchant, error) {
	name, live := s.store.TokenMerchant(token)
	if !live {
		return nil, gateway.Refuse(refusal)
	}
	if m := s.merchant(name); m != nil {
		return m, nil
	}
	return nil, gateway.Refuse(refusal)
}

// payURL has the shape of the vendor's example p_url:
// https://xxxxx.com/checkout/order-pay/92/?pay_for_order=true&key=1234
func (s *Server) payURL(c echo.Context, o *gateway.Order) string {
	base := s.publicURL
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return base + "/checkout/order-pay/" + strconv.FormatUint(o.Number, 10) + "/?pay_for_order=true&key=" + o.Key
}

func (s *Server) handleWithdrawOrders(c echo.Context) error {
	f, err := form(c)
	if err != nil {
		return err
	}
	if err := gateway.RequireWithdrawal(f); err != nil {
		return err
	}
	m, err := s.tokenMerchant(f.Get("auth"), gateway.MsgParamsIncorrect)
	if err != nil {
		return err
	}
	exchangeOf(c).Merchant = m.Username
	o, err := gateway.NewWithdrawal(f, m, bankFinder(m, s.payoutBanks), s.store.Now())
	if err != nil {
		return err
	}
	d := s.decide(c, o)
	if d.Error != "" {
		return gateway.Refuse(d.Error)
	}
	if err := s.applyDecisionFault(c, d); err != nil {
		return err
	}
	if d.Outcome == gateway.OutcomeInsufficientBalance {
		// Checked after the duplicate id, as the real order of checks puts it.
		if prev, _ := s.store.Order(o.Kind, o.Merchant, o.OrderID); prev != nil {
			return gateway.Refuse(gateway.MsgOrderIDExistWithdrawal)
		}
		return gateway.Refuse(gateway.MsgBalanceNotEnough)
	}
	gateway.Plan(o, d, s.defaults(), s.store.Now())
	switch err := s.store.CreateWithdrawal(o); {
	case errors.Is(err, store.ErrOrderExists):
		return gateway.Refuse(gateway.MsgOrderIDExistWithdrawal)
	case errors.Is(err, store.ErrInsufficientBalance):
		return gateway.Refuse(gateway.MsgBalanceNotEnough)
	case errors.Is(err, store.ErrMerchantGone):
		return gateway.Refuse(gateway.MsgParamsIncorrect) // as its token is from now on
	case err != nil:
		return err
	}
	s.orderCreated(o)
	ans := gateway.WithdrawAnswer{Status: true, Message: gateway.MsgSuccess}
	if s.dialect(m).Is(gateway.SwitchWithdrawOrderID, gateway.ValueOn) {
		ans.WithdrawOrderID = gateway.WithdrawOrderID(o)
	}
	return answer(c, ans)
}

// handleBankList answers both bank lists: withdraw_bank_list from the profile's payout
// banks, bank_list (the banks a THB or IDR customer pays from) from the configured ones.
func (s *Server) handleBankList(c echo.Context) error {
	f, m, err := s.merchantRequest(c)
	if err != nil {
		return err
	}
	lists := s.depositBanks
	if c.Path() == gateway.EndpointWithdrawBankList.Path() {
		lists = s.payoutBanks
	}
	filter := f.Get("currency")
	if _, ok := m.Currency(filter); filter != "" && (!ok || gateway.AnyBad(f, "currency")) {
		return gateway.Refuse(gateway.MsgCurrencyInvalid)
	}
	data := []gateway.Bank{}
	for _, cur := range m.Currencies {
		if filter == "" || filter == cur.Code {
			data = append(data, lists(m, cur.Code)...)
		}
	}
	return answer(c, gateway.BankListAnswer{Status: true, Data: data})
}

// handleGetBalance answers /wallet/get_balance in its two shapes. With auth and
// currency (a live integration's call, docs/fidelity.md, family) it answers that currency's available
// balance as {"status":true,"balance":"<4 decimals>","currency":…}, refused as
// check_status refuses (Params missing., Params incorrect, Currency invalid.). With
// username and api_key (the sandbox's earlier guess) it answers every currency as a
// data list (README, guessed behaviours).
func (s *Server) handleGetBalance(c echo.Context) error {
	f, err := form(c)
	if err != nil {
		return err
	}
	if f.Get("auth") != "" && f.Get("api_key") == "" {
		return s.tokenBalance(c, f)
	}
	m, err := s.credentials(c)
	if err != nil {
		return err
	}
	bals, err := s.store.Balances(m.Username)
	if err != nil {
		return err
	}
	data := make([]gateway.BalanceEntry, 0, len(bals))
	for _, cur := range m.Currencies {
		for _, b := range bals {
			if b.Currency == cur.Code {
				data = append(data, gateway.BalanceEntry{Currency: b.Currency, Balance: gateway.Number(b.Available + b.Reserved),
					Available: gateway.Number(b.Available), Reserved: gateway.Number(b.Reserved)})
			}
		}
	}
	return answer(c, gateway.BalanceAnswer{Status: true, Data: data})
}

// tokenBalance is get_balance with auth and currency: one currency's available balance.
func (s *Server) tokenBalance(c echo.Context, f url.Values) error {
	if gateway.AnyMissing(f, "auth", "currency") {
		return gateway.Refuse(gateway.MsgParamsMissing)
	}
	m, err := s.tokenMerchant(f.Get("auth"), gateway.MsgParamsIncorrect)
	if err != nil || gateway.AnyBad(f, "auth") {
		return gateway.Refuse(gateway.MsgParamsIncorrect)
	}
	exchangeOf(c).Merchant = m.Username
	cur := f.Get("currency")
	if _, ok := m.Currency(cur); !ok || gateway.AnyBad(f, "currency") {
		return gateway.Refuse(gateway.MsgCurrencyInvalid)
	}
	bals, err := s.store.Balances(m.Username)
	if err != nil {
		return err
	}
	var avail gateway.Money
	for _, b := range bals {
		if b.Currency == cur {
			avail = b.Available
		}
	}
	return answer(c, gateway.TokenBalanceAnswer{Status: true, Balance: avail.String(), Currency: cur})
}

func (s *Server) handleCheckStatus(kind gateway.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, err := form(c)
		if err != nil {
			return err
		}
		if gateway.AnyMissing(f, "username", "id") {
			return gateway.Refuse(gateway.MsgParamsMissing)
		}
		username := f.Get("username")
		var o *gateway.Order
		msg := ""
		// A live token (live integrations send auth with check_status, docs/fidelity.md, observed) says
		// whose order it is: only that merchant's orders are looked in, since
		// merchants sharing one sandbox may reuse order ids and customer names.
		if tm, _ := s.tokenMerchant(f.Get("auth"), ""); tm != nil && gateway.CheckField("username", username) == nil {
			o, msg = s.merchantOrder(kind, tm, f.Get("id"))
		} else {
			o, msg = s.lookup(kind, username, f.Get("id"))
		}
		if o == nil {
			return gateway.Refuse(msg)
		}
		exchangeOf(c).Merchant = o.Merchant
		if o.Status == gateway.StatusPending {
			if m := s.merchant(o.Merchant); m != nil && s.dialect(m).Is(gateway.SwitchPendingStatus, gateway.ValueStatusFalse) {
				// docs/fidelity.md, family: one member answers a pending order {"status":false} alone.
				return answer(c, gateway.PendingFalseAnswer{})
			}
		}
		return answer(c, gateway.StatusAnswer{Status: true, OrderStatus: o.Status,
			OrderDatetime: o.CreatedAt.In(time.Local).Format(gateway.DateTimeLayout), Amount: gateway.Number(o.SettledAmount()), Currency: o.Currency})
	}
}

// lookup finds an order for check_status. The vendor's examples send the merchant's
// username in some places and the customer's ("john") in others, so both are read:
// a merchant name looks in that merchant's orders; any other name must be the
// customer of a deposit with that id. A withdrawal has no customer, yet the vendor's
// check_withdraw_status example sends "john": there any non-merchant name finds the
// withdrawal by its id alone (README, guessed behaviours).
//
// A username or id over its limit (or badly encoded) is answered like one that is
// unknown: no order can carry it.
func (s *Server) lookup(kind gateway.Kind, username, id string) (*gateway.Order, string) {
	if gateway.CheckField("username", username) != nil {
		return nil, gateway.MsgParamsIncorrect
	}
	idOK := gateway.CheckField("id", id) == nil
	m := s.merchant(username)
	if m != nil && !idOK {
		return nil, gateway.MsgOrderNotFound
	}
	if m != nil {
		if o, msg := s.merchantOrder(kind, m, id); o != nil {
			return o, msg
		}
	}
	if !idOK {
		return nil, gateway.MsgParamsIncorrect
	}
	// A customer name is resolved within the merchants that have an order with this
	// id under it. A merchant named like another merchant's customer (a run-time
	// merchant "mary") does not hide that customer's deposits: its own orders are
	// looked in first, then the customer's (issue 18, finding 6).
	found, _ := s.store.FindOrderHeads(kind, id)
	for _, o := range found {
		if o.Customer == username || (kind == gateway.KindWithdrawal && m == nil) {
			return o, ""
		}
	}
	if m != nil {
		return nil, gateway.MsgOrderNotFound
	}
	return nil, gateway.MsgParamsIncorrect
}

// merchantOrder finds merchant m's order of kind by its id.
func (s *Server) merchantOrder(kind gateway.Kind, m *gateway.Merchant, id string) (*gateway.Order, string) {
	if gateway.CheckField("id", id) != nil {
		return nil, gateway.MsgOrderNotFound
	}
	o, err := s.store.OrderHead(kind, m.Username, id)
	if err != nil {
		return nil, gateway.MsgOrderNotFound
	}
	return o, ""
}
