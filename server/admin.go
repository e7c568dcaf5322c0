package server

import (
	"bytes"
	"crypto/subtle"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/server/internal/cut"
	"github.com/vpay88/vpay88-sandbox/store"
)

// registerAdminRoutes mounts the admin API under /sandbox/api.
func (s *Server) registerAdminRoutes(e *echo.Echo) {
	g := e.Group("/sandbox/api", s.guardAdmin)
	g.GET("/openapi.json", s.handleOpenAPI)
	g.GET("/orders", s.handleAdminOrders)
	for _, k := range gateway.Kinds() {
		base := "/" + string(k) + "s/:orderid"
		g.GET(base, s.handleAdminOrder(k))
		g.POST(base+"/settle", s.handleAdminSettle(k))
		g.POST(base+"/callback", s.handleAdminResend(k))
		g.POST(base+"/reverse", s.handleAdminReverse(k))
	}
	g.GET("/journal", s.handleAdminJournal)
	g.GET("/requests", s.handleRequests)
	g.GET("/callbacks", s.handleAdminCallbacks)
	g.POST("/callbacks/retry", s.handleAdminRetryCallbacks)
	g.GET("/balances", s.handleAdminBalances)
	g.PUT("/balances/:merchant/:currency", s.handleAdminSetBalance)
	g.GET("/ledger", s.handleAdminLedger)
	g.GET("/merchants", s.handleAdminMerchants)
	g.POST("/merchants", s.handleAddMerchant)
	g.DELETE("/merchants/:username", s.handleDeleteMerchant)
	g.PATCH("/merchants/:username", s.handlePatchMerchant)
	g.GET("/dialects", s.handleDialects)
	g.GET("/scenarios", s.handleAdminScenarios)
	g.PUT("/scenarios", s.handleAdminSetScenarios)
	g.POST("/reset", s.handleAdminReset)
	g.GET("/events", echo.WrapHandler(s.events))
	g.GET("/captures", s.handleAdminCaptures)
	g.GET("/clock", s.handleGetClock)
	g.POST("/clock", s.handleSetClock)
	g.GET("/clock/jobs/:id", s.handleClockJob)
	g.GET("/faults", s.handleListFaults)
	g.POST("/faults", s.handleAddFault)
	g.DELETE("/faults", s.handleClearFaults)
	g.DELETE("/faults/:id", s.handleClearFaults)
	g.POST("/maintenance", s.handleAddMaintenance)
}

// guardAdmin checks the bearer token when --admin-token is set. The OpenAPI document
// stays public so tools can read the surface before they have a token; EventSource
// cannot send headers, so the event stream also takes ?token=.
func (s *Server) guardAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.adminToken == "" || c.Path() == "/sandbox/api/openapi.json" {
			return next(c)
		}
		got := c.Request().Header.Get("Authorization")
		if c.Path() == "/sandbox/api/events" && c.QueryParam("token") != "" {
			got = "Bearer " + c.QueryParam("token")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+s.adminToken)) != 1 {
			return fail(http.StatusUnauthorized, "admin token required: Authorization: Bearer <token>")
		}
		return next(c)
	}
}

// adminMerchant resolves the optional merchant field (default: the first merchant).
func (s *Server) adminMerchant(c echo.Context) (*gateway.Merchant, error) {
	name := c.QueryParam("merchant")
	if f, err := formValues(c.Request()); err == nil && f.Get("merchant") != "" {
		name = f.Get("merchant")
	}
	if name == "" {
		return s.merchant(s.cfg.Merchants[0].Username), nil
	}
	m := s.merchant(name)
	if m == nil {
		return nil, fail(http.StatusNotFound, "unknown merchant "+name)
	}
	return m, nil
}

// orderView is an order with its callbacks and their attempts.
type orderView struct {
	*gateway.Order
	Callbacks []deliveryView `json:"callbacks"`
}

// deliveryView is a delivery with its attempts, both from one read (store's Log).
type deliveryView struct {
	*store.Delivery
	AttemptLog []store.Attempt `json:"attempt_log"`
}

func (s *Server) orderView(o *gateway.Order) (orderView, error) {
	dels, err := s.store.Deliveries(o.Kind, o.Merchant, o.OrderID)
	if err != nil {
		return orderView{}, err
	}
	v := orderView{Order: o, Callbacks: []deliveryView{}}
	for _, d := range dels {
		v.Callbacks = append(v.Callbacks, deliveryView{Delivery: d, AttemptLog: d.Log})
	}
	return v, nil
}

// orderIDParam is the order id the path names, decoded. Echo routes on the escaped
// path whenever it differs from the decoded one (an id with "/" must come as %2F) and
// then hands its parameters over still escaped; otherwise they arrive decoded, so
// decoding again would turn an id "a%2Fb" into "a/b".
func orderIDParam(c echo.Context) (string, error) {
	id := c.Param("orderid")
	if c.Request().URL.RawPath == "" {
		return id, nil
	}
	v, err := url.PathUnescape(id)
	if err != nil {
		return "", fail(http.StatusBadRequest, "the order id in the path is not validly escaped: use encodeURIComponent")
	}
	return v, nil
}

// adminOrder finds the order the path names, for the merchant the request names.
func (s *Server) adminOrder(c echo.Context, kind gateway.Kind) (*gateway.Merchant, *gateway.Order, error) {
	m, err := s.adminMerchant(c)
	if m == nil {
		return nil, nil, err
	}
	id, err := orderIDParam(c)
	if err != nil {
		return nil, nil, err
	}
	o, err := s.store.Order(kind, m.Username, id)
	if err != nil {
		return nil, nil, fail(http.StatusNotFound, "no "+string(kind)+" "+cut.To(id, 200)+" for merchant "+m.Username)
	}
	return m, o, nil
}

// writeOrderView answers an order with its callbacks and their attempts.
func (s *Server) writeOrderView(c echo.Context, o *gateway.Order) error {
	v, err := s.orderView(o)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) handleAdminOrder(kind gateway.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, o, err := s.adminOrder(c, kind)
		if err != nil {
			return err
		}
		return s.writeOrderView(c, o)
	}
}

func (s *Server) handleAdminSettle(kind gateway.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		m, err := s.adminMerchant(c)
		if m == nil {
			return err
		}
		f, err := formValues(c.Request())
		if err != nil {
			return err
		}
		id, err := orderIDParam(c)
		if err != nil {
			return err
		}
		for _, field := range []string{"name", "remarks"} {
			if err := gateway.CheckField(field, f.Get(field)); err != nil {
				return fail(http.StatusBadRequest, err.Error())
			}
		}
		out := gateway.Outcome{Remarks: f.Get("remarks"), Name: f.Get("name"), Source: "admin"}
		out.Kind = gateway.OutcomeKind(f.Get("outcome"))
		switch {
		case out.Kind == "":
			return fail(http.StatusBadRequest, "outcome is required: "+gateway.OneOf(gateway.SettleOutcomes(kind)))
		case !slices.Contains(gateway.SettleOutcomes(gateway.KindWithdrawal), out.Kind):
			return fail(http.StatusBadRequest, "unknown outcome "+f.Get("outcome")+": use "+gateway.OneOf(gateway.SettleOutcomes(kind)))
		case out.Kind.PayoutOnly() && kind != gateway.KindWithdrawal:
			return fail(http.StatusBadRequest, string(out.Kind)+" applies to withdrawals only")
		}
		if v := f.Get("charge"); v != "" {
			ch, err := gateway.ParseMoney(v)
			if err != nil {
				return fail(http.StatusBadRequest, "charge is not a plain decimal")
			}
			// The payout callback prints the fee with two places ("5.00"), so a
			// finer charge would be booked as one amount and reported as another.
			if kind == gateway.KindWithdrawal && ch.Places() > 2 {
				return fail(http.StatusBadRequest, "charge of a withdrawal has at most two decimals: its callback writes the fee as \"5.00\"")
			}
			out.Charge = &ch
		}
		if out.Paid, err = paidField(f.Get("paid_amount"), kind, out.Kind); err != nil {
			return err
		}
		o, err := s.settle(kind, m.Username, id, out)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fail(http.StatusNotFound, "no "+string(kind)+" "+cut.To(id, 200)+" for merchant "+m.Username)
		case errors.Is(err, store.ErrAlreadySettled):
			return fail(http.StatusConflict, "order is already "+string(o.Status)+": a settled order never changes")
		case errors.Is(err, gateway.ErrBadOutcome):
			return fail(http.StatusBadRequest, err.Error())
		case err != nil:
			return err
		}
		return s.writeOrderView(c, o)
	}
}

// paidField reads the paid_amount of a settlement (the admin API's, the checkout
// page's): nil when empty; a 400 when it is no amount or percentage, or the order is
// not a deposit being completed.
func paidField(v string, kind gateway.Kind, out gateway.OutcomeKind) (*gateway.PaidSpec, error) {
	if v == "" {
		return nil, nil
	}
	if kind != gateway.KindDeposit || out != gateway.OutcomeCompleted {
		return nil, fail(http.StatusBadRequest, "paid_amount applies to a deposit being completed")
	}
	if err := gateway.CheckField("paid_amount", v); err != nil {
		return nil, fail(http.StatusBadRequest, err.Error())
	}
	p, err := gateway.ParsePaid(v)
	if err != nil {
		return nil, fail(http.StatusBadRequest, err.Error())
	}
	return &p, nil
}

// handleAdminReverse gives a settled order its other final status with a second
// callback, as live merchants see a completed payout later reported failed.
func (s *Server) handleAdminReverse(kind gateway.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		m, o, err := s.adminOrder(c, kind)
		if err != nil {
			return err
		}
		reversed, err := s.reverse(kind, m.Username, o.OrderID, "admin")
		switch {
		case errors.Is(err, gateway.ErrNotSettled):
			return fail(http.StatusConflict, err.Error())
		case err != nil:
			return err
		}
		return s.writeOrderView(c, reversed)
	}
}

func (s *Server) handleAdminResend(kind gateway.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		m, o, err := s.adminOrder(c, kind)
		if err != nil {
			return err
		}
		if !o.Settled() {
			return fail(http.StatusConflict, "order is pending: callbacks are sent when it settles")
		}
		dl := s.dialect(m)
		u := dl.CallbackURL(o.Kind, m)
		if u == "" {
			return fail(http.StatusConflict, "merchant "+m.Username+" has no callback_url (--callback-url, the config file or PATCH /sandbox/api/merchants/"+m.Username+")")
		}
		d := &store.Delivery{Merchant: o.Merchant, Kind: o.Kind, OrderID: o.OrderID, URL: u,
			Body: dl.CallbackBody(o, m, gateway.Token(m.SecretKey, o.OrderID)), NextAt: s.store.Now().UTC(), Note: "resend", Form: dl.FormCallback()}
		if err := s.store.Enqueue([]*store.Delivery{d}); err != nil {
			return err
		}
		s.dispatcher.Notify()
		return c.JSON(http.StatusAccepted, d)
	}
}

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) handleOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDoc)
}

// merchantFilter reads the optional ?merchant= of a list route: "" for all merchants,
// else the merchant's username (an alias names the same merchant), or a 404 refusal.
func (s *Server) merchantFilter(c echo.Context) (string, error) {
	return s.merchantNamed(c.QueryParam("merchant"))
}

// merchantNamed is the username of the merchant an optional admin field names (an
// alias names the same merchant): "" for none, or a 404 refusal for an unknown one.
func (s *Server) merchantNamed(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	m := s.merchant(name)
	if m == nil {
		return "", fail(http.StatusNotFound, "unknown merchant "+name)
	}
	return m.Username, nil
}

// paging reads offset and limit (default 50, at most 500). Lists also take a cursor,
// ?before=<next from the previous page>, which costs a page however deep it goes;
// an offset costs the entries it skips.
func paging(c echo.Context) (offset, limit int, err error) {
	offset, limit = 0, 50
	if v := c.QueryParam("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, fail(http.StatusBadRequest, "offset must be a non-negative integer")
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, fail(http.StatusBadRequest, "limit must be an integer from 1 to 500")
		}
	}
	return offset, limit, nil
}

// cursor reads ?before=, the "next" of the previous page: a number, or a number and
// the offset still to skip below it ("123-40"), when a filtered page ended at the
// store's scan bound before the offset was skipped; that offset replaces ?offset=.
func cursor(c echo.Context, offset *int) (uint64, error) {
	v := c.QueryParam("before")
	if v == "" {
		return 0, nil
	}
	num, skip, hasSkip := strings.Cut(v, "-")
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 {
		return 0, fail(http.StatusBadRequest, "before must be the next cursor of a previous page (a positive integer)")
	}
	if hasSkip {
		k, err := strconv.Atoi(skip)
		if err != nil || k < 0 {
			return 0, fail(http.StatusBadRequest, "before must be the next cursor of a previous page (a positive integer)")
		}
		*offset = k
	}
	return n, nil
}

// nextCursor is the "next" of a list answer: the ?before= of the next page, or null
// on the last page. It is a string so that no client's number parsing can round it,
// and so that it can carry the offset still to skip (see cursor).
func nextCursor(n uint64, offset int) any {
	if n == 0 {
		return nil
	}
	if offset > 0 {
		return strconv.FormatUint(n, 10) + "-" + strconv.Itoa(offset)
	}
	return strconv.FormatUint(n, 10)
}

func (s *Server) handleAdminOrders(c echo.Context) error {
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	merchant, err := s.merchantFilter(c)
	if err != nil {
		return err
	}
	before, err := cursor(c, &offset)
	if err != nil {
		return err
	}
	f := store.OrderFilter{Kind: gateway.Kind(c.QueryParam("kind")), Status: gateway.Status(c.QueryParam("status")),
		Merchant: merchant, Currency: strings.ToUpper(c.QueryParam("currency")), Prefix: c.QueryParam("prefix"),
		Before: before, Offset: offset, Limit: limit}
	if f.Kind != "" && !slices.Contains(gateway.Kinds(), f.Kind) {
		return fail(http.StatusBadRequest, "kind must be "+gateway.OneOf(gateway.Kinds()))
	}
	if f.Status != "" && !slices.Contains(gateway.Statuses(), f.Status) {
		return fail(http.StatusBadRequest, "status must be "+gateway.OneOf(gateway.Statuses()))
	}
	page, err := s.store.ListOrders(f)
	if err != nil {
		return err
	}
	if page.Orders == nil {
		page.Orders = []*gateway.Order{}
	}
	return c.JSON(http.StatusOK, map[string]any{"total": page.Total, "orders": page.Orders, "next": nextCursor(page.Next, page.NextOffset)})
}

func (s *Server) handleAdminJournal(c echo.Context) error {
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	entries, total := s.journal.List(c.QueryParam("endpoint"), c.QueryParam("message"), c.QueryParam("q"), offset, limit)
	if entries == nil {
		entries = []JournalEntry{}
	}
	_, bytes := s.journal.Usage()
	return c.JSON(http.StatusOK, map[string]any{"total": total, "entries": entries, "bytes": bytes, "max_bytes": s.journal.MaxBytes()})
}

func (s *Server) handleAdminCallbacks(c echo.Context) error {
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	state := c.QueryParam("state")
	if state != "" && !slices.Contains(gateway.CallbackStates(), state) {
		return fail(http.StatusBadRequest, "state must be "+gateway.OneOf(gateway.CallbackStates()))
	}
	merchant, err := s.merchantFilter(c)
	if err != nil {
		return err
	}
	before, err := cursor(c, &offset)
	if err != nil {
		return err
	}
	page, err := s.store.ListDeliveries(store.DeliveryFilter{Merchant: merchant, State: state, Before: before, Offset: offset, Limit: limit})
	if err != nil {
		return err
	}
	out := make([]deliveryView, 0, len(page.Deliveries))
	for _, d := range page.Deliveries {
		out = append(out, deliveryView{Delivery: d, AttemptLog: d.Log})
	}
	return c.JSON(http.StatusOK, map[string]any{"total": page.Total, "callbacks": out, "next": nextCursor(page.Next, 0)})
}

func (s *Server) handleAdminBalances(c echo.Context) error {
	m, err := s.merchantFilter(c)
	if err != nil {
		return err
	}
	bals, err := s.store.Balances(m)
	if err != nil {
		return err
	}
	if bals == nil {
		bals = []store.Balance{}
	}
	return c.JSON(http.StatusOK, map[string]any{"balances": bals})
}

func (s *Server) handleAdminSetBalance(c echo.Context) error {
	m := s.merchant(c.Param("merchant"))
	if m == nil {
		return fail(http.StatusNotFound, "unknown merchant "+c.Param("merchant"))
	}
	cur := strings.ToUpper(c.Param("currency"))
	if _, ok := m.Currency(cur); !ok {
		return fail(http.StatusNotFound, "merchant "+m.Username+" has no currency "+cur)
	}
	f, err := formValues(c.Request())
	if err != nil {
		return err
	}
	amt, err := gateway.ParseMoney(f.Get("available"))
	if err != nil {
		return fail(http.StatusBadRequest, "available must be a plain non-negative decimal with at most four places")
	}
	bal, err := s.store.SetBalance(m.Username, cur, amt)
	if err != nil {
		return err
	}
	s.events.Publish("order")
	return c.JSON(http.StatusOK, bal)
}

// handleAdminLedger lists balance changes, newest first: every credit, reservation,
// release and admin edit, with the order that caused it.
func (s *Server) handleAdminLedger(c echo.Context) error {
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	name, err := s.merchantFilter(c)
	if err != nil {
		return err
	}
	before, err := cursor(c, &offset)
	if err != nil {
		return err
	}
	page, err := s.store.LedgerPage(store.LedgerFilter{Merchant: name, Currency: strings.ToUpper(c.QueryParam("currency")),
		Before: before, Offset: offset, Limit: limit})
	if err != nil {
		return err
	}
	if page.Entries == nil {
		page.Entries = []store.LedgerEntry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"total": page.Total, "entries": page.Entries, "next": nextCursor(page.Next, page.NextOffset)})
}

func (s *Server) handleAdminScenarios(c echo.Context) error {
	s.mu.RLock()
	rules := s.rules
	s.mu.RUnlock()
	if rules == nil {
		rules = []scenarios.Rule{}
	}
	text := ""
	if len(rules) > 0 {
		b, err := yaml.Marshal(rules)
		if err != nil {
			return err
		}
		text = string(b)
	}
	return c.JSON(http.StatusOK, map[string]any{"rules": rules, "yaml": text})
}

// maxScenarioBodyBytes bounds the body of PUT /sandbox/api/scenarios: a list of
// scenarios.MaxRules short rules in flow style fits. The YAML parser holds 100 to 200
// bytes per byte of its input (a 256 KiB document of aliases took 96 MB and 0.9 s), so
// this bound is what keeps a refused document's cost small; scenarioParse lets one
// document be parsed at a time.
const maxScenarioBodyBytes = 128 << 10

// scenarioParse serialises the parsing of PUT /sandbox/api/scenarios bodies: uploads
// sent at once wait rather than each holding a parser's memory.
var scenarioParse sync.Mutex

// handleAdminSetScenarios replaces the rules at run time. The body is YAML (JSON is
// YAML too). A bad rule is refused with the reason and the old rules stay.
//
// An empty or missing body is refused: it is what `curl --data-binary @rules.yaml`
// sends when the file is missing, and it must not wipe every rule; clearing them takes
// an explicit `rules: []`. The body is bounded (maxScenarioBodyBytes) before it is
// read, and the rules after it is parsed (config.ParseRules: their count, their
// fields, what YAML aliases add).
func (s *Server) handleAdminSetScenarios(c echo.Context) error {
	r := c.Request()
	tooBig := fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the rules are over %d bytes (128 KiB), the limit of a scenario rule document", maxScenarioBodyBytes))
	if r.ContentLength > maxScenarioBodyBytes {
		return tooBig
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxScenarioBodyBytes)
	body, err := readBody(c)
	if errors.Is(err, errBodyTooLarge) {
		return tooBig
	}
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fail(http.StatusBadRequest, config.ErrNoRules.Error())
	}
	scenarioParse.Lock()
	rules, err := config.ParseRules("rules", body)
	scenarioParse.Unlock()
	if err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	s.mu.Lock()
	s.setRules(rules)
	s.mu.Unlock()
	s.log.Info("scenario rules replaced", "count", len(rules))
	return c.JSON(http.StatusOK, map[string]any{"rules": rules})
}

func (s *Server) handleAdminReset(c echo.Context) error {
	f, err := formValues(c.Request())
	if err != nil {
		return err
	}
	name := f.Get("merchant")
	if name == "" {
		name = c.QueryParam("merchant")
	}
	var opening []store.Balance
	target := "all"
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.mu.RLock()
	for _, m := range s.merchants {
		if name != "" && s.byName[name] != m {
			continue
		}
		if name != "" {
			target = m.Username
		}
		opening = append(opening, openingBalances(m)...)
	}
	s.mu.RUnlock()
	if name != "" && target == "all" {
		return fail(http.StatusNotFound, "unknown merchant "+name)
	}
	if target == "all" {
		target = ""
	}
	if err := s.store.Reset(target, opening); err != nil {
		return err
	}
	if target == "" {
		s.journal.Reset()
		// The reset emptied the store's meta values with the rest; the fault queue in
		// memory goes on, so it is stored again, or a restart would lose it.
		s.faults.Persist()
		target = "all"
	}
	s.events.Publish("order")
	s.log.Info("state reset", "scope", target)
	return c.JSON(http.StatusOK, map[string]any{"reset": target})
}
