package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// JournalEntry is one vendor-API request as the admin API and dashboard show it.
type JournalEntry struct {
	ID        uint64    `json:"id"`
	RequestID string    `json:"request_id"`
	Time      time.Time `json:"time"`
	Endpoint  string    `json:"endpoint"`
	// Merchant is the merchant the request was made as (its username, auth token or
	// order), when the sandbox could tell.
	Merchant string            `json:"merchant,omitempty"`
	Fields   map[string]string `json:"fields"`
	// rawFields is how the ring keeps the fields: one url-encoded string instead of a
	// map, which more than halves the journal's memory (2000 entries stay resident).
	rawFields string
	HTTP      int     `json:"http_status"`
	Message   string  `json:"message"`
	Response  string  `json:"response"`
	LatencyMS float64 `json:"latency_ms"`
	// Fault says which injected fault hit the request ("injected: status 502 html
	// (fault 3)"); empty when none did.
	Fault string `json:"fault,omitempty"`
}

// Journal bounds. A request body may be 1 MiB, and 200 check_status calls with a 1 MB
// id once took the process from 5 MB to 943 MB: the journal keeps a cut copy of each
// value, so any entry stays a few KiB and the whole journal a few MiB.
const (
	// journalValueBytes cuts each field value (and field name, and unknown path).
	journalValueBytes = 2 << 10
	// journalFieldsBytes bounds an entry's fields together: 1 MiB of tiny fields
	// would otherwise pass every per-value cut.
	journalFieldsBytes = 16 << 10
	// journalResponseBytes cuts the recorded answer; the longest vendor answer, the
	// full bank list, is about 4 KiB.
	journalResponseBytes = 8 << 10
	// journalMaxBytes bounds the whole journal; the oldest entries go first.
	journalMaxBytes = 16 << 20
	// journalEntryOverhead is what an entry costs beyond its strings (the struct, the
	// time, the slice slot), for the accounting.
	journalEntryOverhead = 256
)

// journal keeps the last n vendor-API requests in memory: it is a debugging aid, not
// state, so it costs no disk write on the request path (README, guessed behaviours).
// It is bounded twice: at most size entries, and at most maxBytes of them.
type journal struct {
	mu sync.Mutex
	// entries[head:] are the live entries, oldest first. Evicting advances head and
	// the slice is compacted once head passes half of it, so an add costs O(1)
	// amortised; shifting the slice on every add cost a 2000-entry copy per request,
	// a quarter of the CPU of check_status (bench/README.md).
	entries  []JournalEntry
	head     int
	next     uint64
	size     int
	bytes    int
	maxBytes int
	onAdd    func()
}

func newJournal(size int) *journal {
	return &journal{size: size, maxBytes: journalMaxBytes}
}

// entryBytes is what an entry is counted for in the journal's bound.
func entryBytes(e *JournalEntry) int {
	return journalEntryOverhead + len(e.RequestID) + len(e.Endpoint) + len(e.Merchant) + len(e.rawFields) + len(e.Message) + len(e.Response) + len(e.Fault)
}

func (j *journal) add(e JournalEntry) {
	j.mu.Lock()
	j.next++
	e.ID = j.next
	j.entries = append(j.entries, e)
	j.bytes += entryBytes(&e)
	for n := len(j.entries) - j.head; n > j.size || (j.bytes > j.maxBytes && n > 1); n-- {
		j.bytes -= entryBytes(&j.entries[j.head])
		j.entries[j.head] = JournalEntry{} // let the evicted strings go
		j.head++
	}
	if j.head > 0 && j.head*2 >= len(j.entries) {
		n := copy(j.entries, j.entries[j.head:])
		clear(j.entries[n:])
		j.entries, j.head = j.entries[:n], 0
	}
	j.mu.Unlock()
	if j.onAdd != nil {
		j.onAdd()
	}
}

func (j *journal) reset() {
	j.mu.Lock()
	j.entries, j.head, j.bytes = nil, 0, 0
	j.mu.Unlock()
}

// usage returns the number of entries and the bytes they are counted for.
func (j *journal) usage() (entries, bytes int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries) - j.head, j.bytes
}

// cut shortens s to at most max bytes (at a rune boundary) and says how much it left
// out, so a cut value never passes for the value that was sent.
func cut(s string, max int) string { return cutKept(s, len(s), max) }

// cutKept is cut for a value of which only the first bytes, s, were kept: total is
// the length of the whole value.
func cutKept(s string, total, max int) string {
	if total <= max {
		return s
	}
	keep := min(max, len(s))
	for keep > 0 && keep < len(s) && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + "…[cut " + strconv.Itoa(total-keep) + " bytes]"
}

// journalFields encodes the request's fields as the ring keeps them, each name and
// value cut, and the fields past journalFieldsBytes left out with a note saying how
// many.
func journalFields(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if b.Len() >= journalFieldsBytes {
			b.WriteString("&" + url.QueryEscape("…") + "=" + url.QueryEscape("["+strconv.Itoa(len(keys)-i)+" more fields cut]"))
			break
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(cut(k, journalValueBytes)))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(cut(v.Get(k), journalValueBytes)))
	}
	return b.String()
}

// list returns entries newest first that match the filters.
func (j *journal) list(endpoint, message, field string, offset, limit int) ([]JournalEntry, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []JournalEntry
	total := 0
	for i := len(j.entries) - 1; i >= j.head; i-- {
		e := j.entries[i]
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

// teeWriter keeps a copy of the start of a vendor response for the journal, and counts
// the rest, so the journal can say how much it cut.
type teeWriter struct {
	http.ResponseWriter
	buf   bytes.Buffer
	total int
}

// Unwrap lets http.ResponseController reach the connection (a reset fault hijacks it).
func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

func (t *teeWriter) Write(b []byte) (int, error) {
	t.total += len(b)
	// One byte past the cut is kept, to find the rune boundary there.
	if room := journalResponseBytes + 1 - t.buf.Len(); room > 0 {
		t.buf.Write(b[:min(len(b), room)])
	}
	return t.ResponseWriter.Write(b)
}

// response is the recorded answer, cut like a field value.
func (t *teeWriter) response() string {
	return cutKept(t.buf.String(), t.total, journalResponseBytes)
}

// journalAPI records each vendor request: fields, answer, latency; it also counts it
// in the metrics and logs it.
func (s *Server) journalAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		tw := &teeWriter{ResponseWriter: c.Response().Writer}
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
			endpoint = cut(c.Request().URL.Path, journalValueBytes)
		}
		fields := journalFields(x.Fields)
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		s.journal.add(JournalEntry{Fault: x.FaultNote, Merchant: x.Merchant,
			RequestID: rid, Time: s.store.Now().Add(-lat).UTC(), Endpoint: endpoint, rawFields: fields,
			HTTP: c.Response().Status, Message: cut(msg, journalValueBytes), Response: tw.response(),
			LatencyMS: float64(lat.Microseconds()) / 1000,
		})
		s.log.Info("api request", "request_id", rid, "endpoint", endpoint, "message", msg, "latency_ms", float64(lat.Microseconds())/1000)
		return nil
	}
}
