package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Request verification, as WireMock's verify: GET /sandbox/api/requests answers the
// journal's vendor requests that match, so a test can assert "generate_orders was
// called 3 times for this id, once accepted". The journal is bounded (the last 2000
// requests), which bounds what can be verified: enough for a test's own calls.

// requestQuery filters the journal; empty fields match anything.
type requestQuery struct {
	merchant string
	endpoint string // a route path
	orderID  string // the orderid or id field
	message  string
	since    time.Time
	limit    int
}

func (q requestQuery) matches(e *JournalEntry) bool {
	switch {
	case q.merchant != "" && e.Merchant != q.merchant,
		q.endpoint != "" && e.Endpoint != q.endpoint,
		q.message != "" && e.Message != q.message,
		!q.since.IsZero() && e.Time.Before(q.since):
		return false
	}
	if q.orderID == "" {
		return true
	}
	f, err := url.ParseQuery(e.rawFields)
	return err == nil && (f.Get("orderid") == q.orderID || f.Get("id") == q.orderID)
}

// query returns the newest entries matching q (at most q.limit) and how many match.
func (j *journal) query(q requestQuery) ([]JournalEntry, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []JournalEntry{}
	n := 0
	for i := len(j.entries) - 1; i >= j.head; i-- {
		e := j.entries[i]
		if !q.matches(&e) {
			continue
		}
		n++
		if len(out) < q.limit {
			e.Fields = decodeFields(e.rawFields)
			out = append(out, e)
		}
	}
	return out, n
}

// maxRequestsPage bounds one answer of GET /sandbox/api/requests.
const maxRequestsPage = 2000

func (s *Server) handleRequests(c echo.Context) error {
	q := requestQuery{orderID: c.QueryParam("orderid"), message: c.QueryParam("message"), limit: 100}
	var err error
	if q.merchant, err = s.merchantFilter(c); err != nil {
		return err
	}
	if v := c.QueryParam("endpoint"); v != "" {
		e, ok := gateway.ParseEndpoint(v)
		if !ok {
			return fail(http.StatusBadRequest, "endpoint "+strconv.Quote(v)+" is not a vendor endpoint")
		}
		q.endpoint = e.Path()
	}
	if v := c.QueryParam("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fail(http.StatusBadRequest, "since must be an RFC 3339 time, not "+strconv.Quote(v))
		}
		q.since = t
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRequestsPage {
			return fail(http.StatusBadRequest, "limit must be between 1 and "+strconv.Itoa(maxRequestsPage))
		}
		q.limit = n
	}
	reqs, n := s.journal.query(q)
	return c.JSON(http.StatusOK, map[string]any{"count": n, "requests": reqs})
}
