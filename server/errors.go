package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server/faults"
	"github.com/vpay88/vpay88-sandbox/store"
)

// Handlers return errors; handleError is the one place they become answers, in the
// shape of the surface the request came to:
//   - the vendor API (and any path that is not the sandbox's own) answers the vendor's
//     {"status":false,"message":…}, unknown routes included, as stripe-mock copies its
//     API's error shape; a vendor refusal (gateway.APIError) is HTTP 200, as the vendor
//     answers ("returned data is JSON, errors included");
//   - the admin API, the dashboard (/sandbox/…), /metrics and /healthz answer
//     {"error":…};
//   - the checkout page (/checkout/…) answers an HTML page.
//
// The journal and the metrics read the message of an answer from answerOf too.

// httpError is a refusal with an HTTP status: the admin API's 400, 404 and 409, a
// guard's 403, a checkout page's 404.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

// fail returns a refusal for handleError to answer with code and msg.
func fail(code int, msg string) error { return &httpError{code: code, msg: msg} }

// errBodyTooLarge is answered 413 on every surface.
var errBodyTooLarge = errors.New("request body too large")

// surface is where a request went, which decides the shape of its errors.
type surface int

const (
	surfaceVendor surface = iota
	surfaceAdmin
	surfaceCheckout
)

func surfaceOf(path string) surface {
	switch {
	case path == "/sandbox" || strings.HasPrefix(path, "/sandbox/") || path == "/metrics" || path == "/healthz":
		return surfaceAdmin
	case strings.HasPrefix(path, "/checkout/"):
		return surfaceCheckout
	}
	return surfaceVendor
}

// answerOf is the HTTP status and message an error is answered with; internal errors
// are logged here and answered generically.
func (s *Server) answerOf(err error, c echo.Context) (int, string) {
	var ae *gateway.APIError
	var he *httpError
	var ee *echo.HTTPError
	var fe *faults.InputError
	switch {
	case errors.As(err, &ae):
		return http.StatusOK, ae.Message
	case errors.As(err, &he):
		return he.code, he.msg
	case errors.As(err, &fe):
		return http.StatusBadRequest, fe.Error()
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, "Request body too large."
	case errors.Is(err, store.ErrDamaged) || errors.Is(err, store.ErrCorrupt):
		// The store logged it once at ERROR, with the file and what to do; a line per
		// request would bury that one.
		return http.StatusServiceUnavailable, "State file damaged: writes are refused; see the sandbox's log."
	case errors.As(err, &ee):
		switch ee.Code {
		case http.StatusNotFound:
			return ee.Code, "Not found."
		case http.StatusMethodNotAllowed:
			return ee.Code, "Method not allowed."
		case http.StatusRequestEntityTooLarge:
			return ee.Code, "Request body too large."
		}
		if m, ok := ee.Message.(string); ok {
			return ee.Code, m
		}
		return ee.Code, http.StatusText(ee.Code)
	}
	s.log.Error("internal error", "err", err, "path", c.Request().URL.Path, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	return http.StatusInternalServerError, "Internal error."
}

// handleError renders an error for the surface of the request (Echo's HTTPErrorHandler).
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := s.answerOf(err, c)
	exchangeOf(c).Message = msg
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	switch surfaceOf(c.Request().URL.Path) {
	case surfaceAdmin:
		_ = c.JSON(code, map[string]string{"error": msg})
	case surfaceCheckout:
		_ = s.errorPage(c, code, msg)
	default:
		_ = writeJSON(c, code, gateway.MessageAnswer{Status: false, Message: msg})
	}
}

// errorPage is the checkout surface's answer to an error: the "order not found" page
// for a 404 (an unknown number or a wrong key), a short page with the message else.
func (s *Server) errorPage(c echo.Context, code int, msg string) error {
	if code == http.StatusNotFound {
		return s.render(c, code, "notfound", pageData{Title: "Order not found"})
	}
	return s.render(c, code, "error", pageData{Title: http.StatusText(code), Message: msg})
}
