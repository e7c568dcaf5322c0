package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/store"
)

// adminError is the admin API's JSON error.
type adminError struct {
	Error string `json:"error"`
}

func adminFail(c echo.Context, code int, msg string) error {
	return c.JSON(code, adminError{Error: msg})
}

// registerAdminRoutes mounts the admin API under /sandbox/api.
func (s *Server) registerAdminRoutes(e *echo.Echo) {
	g := e.Group("/sandbox/api", s.guardAdmin)
	for _, k := range []gateway.Kind{gateway.KindDeposit, gateway.KindWithdrawal} {
		base := "/" + string(k) + "s/:orderid"
		g.GET(base, s.handleAdminOrder(k))
		g.POST(base+"/settle", s.handleAdminSettle(k))
		g.POST(base+"/callback", s.handleAdminResend(k))
	}
}

// guardAdmin checks the bearer token when --admin-token is set.
func (s *Server) guardAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.adminToken != "" && c.Request().Header.Get("Authorization") != "Bearer "+s.adminToken {
			return adminFail(c, http.StatusUnauthorized, "admin token required: Authorization: Bearer <token>")
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
		return nil, adminFail(c, http.StatusNotFound, "unknown merchant "+name)
	}
	return m, nil
}

// orderView is an order with its callbacks and their attempts.
type orderView struct {
	*gateway.Order
	Callbacks []deliveryView `json:"callbacks"`
}

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
		as, err := s.store.Attempts(d.ID)
		if err != nil {
			return orderView{}, err
		}
		if as == nil {
			as = []store.Attempt{}
		}
		v.Callbacks = append(v.Callbacks, deliveryView{Delivery: d, AttemptLog: as})
	}
	return v, nil
}

func (s *Server) handleAdminOrder(kind gateway.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		m, err := s.adminMerchant(c)
		if m == nil {
			return err
		}
		o, err := s.store.Order(kind, m.Username, c.Param("orderid"))
		if err != nil {
			return adminFail(c, http.StatusNotFound, "no "+string(kind)+" "+c.Param("orderid")+" for merchant "+m.Username)
		}
		v, err := s.orderView(o)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
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
		out := gateway.Outcome{Remarks: f.Get("remarks"), Name: f.Get("name"), Source: "admin"}
		switch f.Get("outcome") {
		case "completed":
			out.Status = gateway.StatusCompleted
		case "fail":
			out.Status = gateway.StatusFail
		case "name_mismatch":
			if kind != gateway.KindWithdrawal {
				return adminFail(c, http.StatusBadRequest, "name_mismatch applies to withdrawals only")
			}
			out.Status = scenarios.OutcomeNameMismatch
		case "rejected":
			if kind != gateway.KindWithdrawal {
				return adminFail(c, http.StatusBadRequest, "rejected applies to withdrawals only")
			}
			out.Status = gateway.StatusRejected
		case "":
			return adminFail(c, http.StatusBadRequest, "outcome is required: completed, fail or name_mismatch")
		default:
			return adminFail(c, http.StatusBadRequest, "unknown outcome "+f.Get("outcome")+": use completed, fail, name_mismatch (or rejected for withdrawals)")
		}
		if v := f.Get("charge"); v != "" {
			ch, err := gateway.ParseMoney(v)
			if err != nil {
				return adminFail(c, http.StatusBadRequest, "charge is not a plain decimal")
			}
			out.Charge = &ch
		}
		o, err := s.settle(kind, m.Username, c.Param("orderid"), out)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return adminFail(c, http.StatusNotFound, "no "+string(kind)+" "+c.Param("orderid")+" for merchant "+m.Username)
		case errors.Is(err, store.ErrAlreadySettled):
			return adminFail(c, http.StatusConflict, "order is already "+string(o.Status)+": a settled order never changes")
		case errors.Is(err, errBadOutcome):
			return adminFail(c, http.StatusBadRequest, err.Error())
		case err != nil:
			return err
		}
		v, err := s.orderView(o)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	}
}

func (s *Server) handleAdminResend(kind gateway.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		m, err := s.adminMerchant(c)
		if m == nil {
			return err
		}
		o, err := s.store.Order(kind, m.Username, c.Param("orderid"))
		if err != nil {
			return adminFail(c, http.StatusNotFound, "no "+string(kind)+" "+c.Param("orderid")+" for merchant "+m.Username)
		}
		if !o.Settled() {
			return adminFail(c, http.StatusConflict, "order is pending: callbacks are sent when it settles")
		}
		if m.CallbackURL == "" {
			return adminFail(c, http.StatusConflict, "merchant "+m.Username+" has no callback_url (--callback-url or the config file)")
		}
		d := &store.Delivery{Merchant: o.Merchant, Kind: o.Kind, OrderID: o.OrderID, URL: m.CallbackURL,
			Body: gateway.CallbackBody(o, m.SecretKey), NextAt: s.store.Now().UTC(), Note: "resend"}
		if err := s.store.Enqueue([]*store.Delivery{d}); err != nil {
			return err
		}
		s.dispatcher.Notify()
		return c.JSON(http.StatusAccepted, d)
	}
}
