package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Context keys set by the vendor handlers for the journal and metrics.
const (
	ctxMessage = "vpay88.message"
	ctxFields  = "vpay88.fields"
)

// JournalEntry is one vendor-API request as the admin API and dashboard show it.
type JournalEntry struct {
	ID        uint64            `json:"id"`
	RequestID string            `json:"request_id"`
	Time      time.Time         `json:"time"`
	Endpoint  string            `json:"endpoint"`
	Fields    map[string]string `json:"fields"`
	// rawFields is how the ring keeps the fields: one url-encoded string instead of a
	// map, which more than halves the journal's memory (2000 entries stay resident).
	rawFields string
	HTTP      int     `json:"http_status"`
	Message   string  `json:"message"`
	Response  string  `json:"response"`
	LatencyMS float64 `json:"latency_ms"`
}

// journal keeps the last n vendor-API requests in memory: it is a debugging aid, not
// state, so it costs no disk write on the request path (README, guessed behaviours).
type journal struct {
	mu sync.Mutex
	// entries is a ring: it grows to size, then each add overwrites the oldest entry
	// at start. Shifting the slice instead cost a 2000-entry copy per request, a
	// quarter of the CPU of check_status (bench/README.md).
	entries []JournalEntry
	start   int
	next    uint64
	size    int
	onAdd   func()
}

func newJournal(size int) *journal {
	return &journal{size: size}
}

func (j *journal) add(e JournalEntry) {
	j.mu.Lock()
	j.next++
	e.ID = j.next
	if len(j.entries) < j.size {
		j.entries = append(j.entries, e)
	} else {
		j.entries[j.start] = e
		j.start = (j.start + 1) % len(j.entries)
	}
	j.mu.Unlock()
	if j.onAdd != nil {
		j.onAdd()
	}
}

func (j *journal) reset() {
	j.mu.Lock()
	j.entries, j.start = nil, 0
	j.mu.Unlock()
}

// list returns entries newest first that match the filters.
func (j *journal) list(endpoint, message, field string, offset, limit int) ([]JournalEntry, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []JournalEntry
	total := 0
	for i := len(j.entries) - 1; i >= 0; i-- {
		e := j.entries[(j.start+i)%len(j.entries)]
		if endpoint != "" && !strings.Contains(e.Endpoint, endpoint) {
			continue
		}
		if message != "" && e.Message != message {
			continue
		}
		if field != "" && !fieldContains(e.rawFields, field) {
			continue
		}
		total++
		if total > offset && len(out) < limit {
			e.Fields = decodeFields(e.rawFields)
			out = append(out, e)
		}
	}
	return out, total
}

// decodeFields turns the ring's encoded fields back into the map the API shows; only
// the entries on the page asked for pay for it.
func decodeFields(raw string) map[string]string {
	fields := map[string]string{}
	if v, err := url.ParseQuery(raw); err == nil {
		for k := range v {
			fields[k] = v.Get(k)
		}
	}
	return fields
}

// fieldContains reports whether any field value contains s.
func fieldContains(raw, s string) bool {
	for _, v := range decodeFields(raw) {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

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

// teeWriter keeps a copy of a (small) vendor response for the journal.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	if t.buf.Len() < 4096 {
		t.buf.Write(b)
	}
	return t.ResponseWriter.Write(b)
}

// journalAPI records each vendor request: fields, answer, latency; it also counts it
// in the metrics and logs it.
func (s *Server) journalAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		tw := &teeWriter{ResponseWriter: c.Response().Writer}
		c.Response().Writer = tw
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		lat := time.Since(start)
		msg, _ := c.Get(ctxMessage).(string)
		if msg == "" {
			msg = http.StatusText(c.Response().Status)
		}
		endpoint := c.Path()
		s.metrics.observeRequest(endpoint, msg, lat)
		var fields string
		if v, ok := c.Get(ctxFields).(url.Values); ok {
			fields = v.Encode()
		}
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		s.journal.add(JournalEntry{
			RequestID: rid, Time: start.UTC(), Endpoint: endpoint, rawFields: fields,
			HTTP: c.Response().Status, Message: msg, Response: tw.buf.String(),
			LatencyMS: float64(lat.Microseconds()) / 1000,
		})
		s.log.Info("api request", "request_id", rid, "endpoint", endpoint, "message", msg, "latency_ms", float64(lat.Microseconds())/1000)
		return nil
	}
}
