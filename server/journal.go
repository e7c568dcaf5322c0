package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/server/internal/cut"
	"github.com/vpay88/vpay88-sandbox/server/journal"
)

// JournalEntry is one vendor-API request as the admin API and dashboard show it.
type JournalEntry = journal.Entry

// journalSize is how many vendor requests the journal keeps (README, bounds).
const journalSize = 2000

// requestID gives every request an id (X-Request-Id, kept if the caller sent one),
// used in logs and the journal.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// journalAPI records each vendor request: fields, answer, latency; it also counts it
// in the metrics and logs it.
func (s *Server) journalAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		tw := &journal.Tee{ResponseWriter: c.Response().Writer}
		c.Response().Writer = tw
		// The answer is written here, by the one renderer, so the journal records it
		// (and the message handleError gives it) before the request ends.
		if err := next(c); err != nil {
			s.handleError(err, c)
		}
		lat := time.Since(start)
		x := exchangeOf(c)
		msg := x.Message
		if msg == "" {
			msg = http.StatusText(c.Response().Status)
		}
		endpoint := c.Path()
		// Metrics keep the route ("/*" for any unknown path), so a caller cannot grow
		// their label set; the journal shows the path that was asked for.
		s.metrics.observeRequest(endpoint, msg, lat)
		if endpoint == "/*" || endpoint == "" {
			endpoint = cut.To(c.Request().URL.Path, journal.ValueBytes)
		}
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		s.journal.Add(JournalEntry{Fault: x.FaultNote, Merchant: x.Merchant,
			RequestID: rid, Time: s.store.Now().Add(-lat).UTC(), Endpoint: endpoint,
			HTTP: c.Response().Status, Message: cut.To(msg, journal.ValueBytes), Response: tw.Response(),
			LatencyMS: float64(lat.Microseconds()) / 1000,
		}, x.Fields)
		s.log.Info("api request", "request_id", rid, "endpoint", endpoint, "message", msg, "latency_ms", float64(lat.Microseconds())/1000)
		return nil
	}
}
