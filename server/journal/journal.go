// Package journal keeps the last vendor-API requests in memory, bounded in entries
// and bytes, for the admin API, the dashboard and request verification: a debugging
// aid, not state, so it costs no disk write on the request path. It knows nothing of
// Echo: the server's middleware records each request with a Tee and Add.
package journal

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/server/internal/cut"
)

// Entry is one vendor-API request as the admin API and dashboard show it.
type Entry struct {
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
	// ValueBytes cuts each field value (and field name, and unknown path).
	ValueBytes = 2 << 10
	// fieldsBytes bounds an entry's fields together: 1 MiB of tiny fields
	// would otherwise pass every per-value cut.
	fieldsBytes = 16 << 10
	// responseBytes cuts the recorded answer; the longest vendor answer, the
	// full bank list, is about 4 KiB.
	responseBytes = 8 << 10
	// defaultMaxBytes bounds the whole journal; the oldest entries go first.
	defaultMaxBytes = 16 << 20
	// entryOverhead is what an entry costs beyond its strings (the struct, the
	// time, the slice slot), for the accounting.
	entryOverhead = 256
)

// Journal keeps the last n vendor-API requests in memory: it is a debugging aid, not
// state, so it costs no disk write on the request path (README, guessed behaviours).
// It is bounded twice: at most size entries, and at most maxBytes of them. It is safe
// for concurrent use.
type Journal struct {
	mu sync.Mutex
	// entries[head:] are the live entries, oldest first. Evicting advances head and
	// the slice is compacted once head passes half of it, so an add costs O(1)
	// amortised; shifting the slice on every add cost a 2000-entry copy per request,
	// a quarter of the CPU of check_status (bench/README.md).
	entries  []Entry
	head     int
	next     uint64
	size     int
	bytes    int
	maxBytes int
	onAdd    func()
}

// New returns a journal of at most size entries (and 16 MiB); onAdd, when set, is
// called after each Add, outside the journal's lock (the server tells the dashboards).
func New(size int, onAdd func()) *Journal {
	return &Journal{size: size, maxBytes: defaultMaxBytes, onAdd: onAdd}
}

// MaxBytes is the journal's bound in bytes, as the admin API shows it.
func (j *Journal) MaxBytes() int { return j.maxBytes }

// entryBytes is what an entry is counted for in the journal's bound.
func entryBytes(e *Entry) int {
	return entryOverhead + len(e.RequestID) + len(e.Endpoint) + len(e.Merchant) + len(e.rawFields) + len(e.Message) + len(e.Response) + len(e.Fault)
}

// Add records e with the request's fields (each cut, as the ring keeps them) and
// gives it the next id; past the journal's bounds the oldest entries go.
func (j *Journal) Add(e Entry, fields url.Values) {
	e.rawFields = encodeFields(fields)
	j.add(e)
}

func (j *Journal) add(e Entry) {
	j.mu.Lock()
	j.next++
	e.ID = j.next
	j.entries = append(j.entries, e)
	j.bytes += entryBytes(&e)
	for n := len(j.entries) - j.head; n > j.size || (j.bytes > j.maxBytes && n > 1); n-- {
		j.bytes -= entryBytes(&j.entries[j.head])
		j.entries[j.head] = Entry{} // let the evicted strings go
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

// Reset forgets every entry; ids keep counting.
func (j *Journal) Reset() {
	j.mu.Lock()
	j.entries, j.head, j.bytes = nil, 0, 0
	j.mu.Unlock()
}

// Usage returns the number of entries and the bytes they are counted for.
func (j *Journal) Usage() (entries, bytes int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries) - j.head, j.bytes
}

// encodeFields encodes the request's fields as the ring keeps them, each name and
// value cut, and the fields past fieldsBytes left out with a note saying how
// many.
func encodeFields(v url.Values) string {
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
		if b.Len() >= fieldsBytes {
			b.WriteString("&" + url.QueryEscape("…") + "=" + url.QueryEscape("["+strconv.Itoa(len(keys)-i)+" more fields cut]"))
			break
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(cut.To(k, ValueBytes)))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(cut.To(v.Get(k), ValueBytes)))
	}
	return b.String()
}

// List returns a page of the entries, newest first, that match the filters (each
// empty one matches anything): endpoint is a part of the path, message the whole
// message, field a part of any field's value; and how many match in all.
func (j *Journal) List(endpoint, message, field string, offset, limit int) ([]Entry, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Entry
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

// Tee keeps a copy of the start of a vendor response for the journal, and counts
// the rest, so the journal can say how much it cut.
type Tee struct {
	http.ResponseWriter
	buf   bytes.Buffer
	total int
}

// Unwrap lets http.ResponseController reach the connection (a reset fault hijacks it).
func (t *Tee) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// Write sends b to the client and keeps what the journal records of it.
func (t *Tee) Write(b []byte) (int, error) {
	t.total += len(b)
	// One byte past the cut is kept, to find the rune boundary there.
	if room := responseBytes + 1 - t.buf.Len(); room > 0 {
		t.buf.Write(b[:min(len(b), room)])
	}
	return t.ResponseWriter.Write(b)
}

// Response is the recorded answer, cut like a field value.
func (t *Tee) Response() string {
	return cut.Kept(t.buf.String(), t.total, responseBytes)
}

// Query filters the journal for request verification (GET /sandbox/api/requests);
// empty fields match anything.
type Query struct {
	Merchant string
	Endpoint string // a route path
	OrderID  string // the orderid or id field
	Message  string
	Since    time.Time
	Limit    int
}

func (q Query) matches(e *Entry) bool {
	switch {
	case q.Merchant != "" && e.Merchant != q.Merchant,
		q.Endpoint != "" && e.Endpoint != q.Endpoint,
		q.Message != "" && e.Message != q.Message,
		!q.Since.IsZero() && e.Time.Before(q.Since):
		return false
	}
	if q.OrderID == "" {
		return true
	}
	f, err := url.ParseQuery(e.rawFields)
	return err == nil && (f.Get("orderid") == q.OrderID || f.Get("id") == q.OrderID)
}

// Query returns the newest entries matching q (at most q.Limit) and how many match.
func (j *Journal) Query(q Query) ([]Entry, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []Entry{}
	n := 0
	for i := len(j.entries) - 1; i >= j.head; i-- {
		e := j.entries[i]
		if !q.matches(&e) {
			continue
		}
		n++
		if len(out) < q.Limit {
			e.Fields = decodeFields(e.rawFields)
			out = append(out, e)
		}
	}
	return out, n
}
