package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server/journal"
)

// Request verification, as WireMock's verify: GET /sandbox/api/requests answers the
// journal's vendor requests that match, so a test can assert "generate_orders was
// called 3 times for this id, once accepted". The journal is bounded (the last 2000
// requests), which bounds what can be verified: enough for a test's own calls.

// maxRequestsPage bounds one answer of GET /sandbox/api/requests.
const maxRequestsPage = 2000

func (s *Server) handleRequests(c echo.Context) error {
	q := journal.Query{OrderID: c.QueryParam("orderid"), Message: c.QueryParam("message"), Limit: 100}
	var err error
	if q.Merchant, err = s.merchantFilter(c); err != nil {
		return err
	}
	if v := c.QueryParam("endpoint"); v != "" {
		e, ok := gateway.ParseEndpoint(v)
		if !ok {
			return fail(http.StatusBadRequest, "endpoint "+strconv.Quote(v)+" is not a vendor endpoint")
		}
		q.Endpoint = e.Path()
	}
	if v := c.QueryParam("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fail(http.StatusBadRequest, "since must be an RFC 3339 time, not "+strconv.Quote(v))
		}
		q.Since = t
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRequestsPage {
			return fail(http.StatusBadRequest, "limit must be between 1 and "+strconv.Itoa(maxRequestsPage))
		}
		q.Limit = n
	}
	reqs, n := s.journal.Query(q)
	return c.JSON(http.StatusOK, map[string]any{"count": n, "requests": reqs})
}
