package server

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// handleAdminRetryCallbacks is POST /sandbox/api/callbacks/retry: it puts the failed
// callbacks (state=failed, the default) of one merchant or all back in the queue, due
// now and with a fresh run of the retry schedule, or makes the pending ones due now
// (state=pending) instead of at their next try. Once a merchant's receiver is fixed,
// QA need not resend order by order. Fields come from the form or the query.
func (s *Server) handleAdminRetryCallbacks(c echo.Context) error {
	f, err := formValues(c.Request())
	if err != nil {
		return err
	}
	field := func(name string) string {
		if v := f.Get(name); v != "" {
			return v
		}
		return c.QueryParam(name)
	}
	state := field("state")
	if state == "" {
		state = gateway.RetryStates()[0]
	} else if !slices.Contains(gateway.RetryStates(), state) {
		// delivered needs nothing; dropped was never meant to be sent (a scenario
		// fault): its order's resend is the way to send it.
		return fail(http.StatusBadRequest, "state must be "+gateway.OneOf(gateway.RetryStates()))
	}
	merchant, err := s.merchantNamed(field("merchant"))
	if err != nil {
		return err
	}
	n, err := s.store.RetryDeliveries(merchant, state, s.store.Now())
	if n > 0 {
		s.dispatcher.Notify()
		s.events.Publish("callback")
	}
	if err != nil {
		return err
	}
	s.log.Info("callbacks retried", "merchant", merchant, "state", state, "count", n)
	return c.JSON(http.StatusOK, map[string]int{"retried": n})
}
