package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// Summary is the answer of GET /proxy/differences.
type Summary struct {
	Target string `json:"target"`
	Shadow string `json:"shadow"`
	// Exchanges is every request passed on.
	Exchanges int64 `json:"exchanges"`
	// Same, Different and Skipped count every compared exchange, kept or not.
	Same      int `json:"same"`
	Different int `json:"different"`
	Skipped   int `json:"skipped"`
	// NotShadowed: not a vendor endpoint, the target unreachable, a body over 1 MiB,
	// or no shadow (no credentials yet). Dropped: the shadow's queue was full (in
	// count or in bytes).
	NotShadowed   int64 `json:"not_shadowed"`
	Dropped       int64 `json:"dropped"`
	RecordDropped int64 `json:"record_dropped"`
	// DifferencesKept and SkippedKept are how many of them the proxy still holds (the
	// last ones: kept.go); DifferencesNotKept and SkippedNotKept went to make room.
	DifferencesKept    int `json:"differences_kept"`
	DifferencesNotKept int `json:"differences_not_kept"`
	SkippedKept        int `json:"skipped_kept"`
	SkippedNotKept     int `json:"skipped_not_kept"`
	// Offset and Limit are the page of Differences and SkippedExchanges (each newest
	// first); NextOffset is the offset of the next page, null on the last.
	Offset           int                  `json:"offset"`
	Limit            int                  `json:"limit"`
	NextOffset       *int                 `json:"next_offset"`
	Differences      []*parity.StepResult `json:"differences"`
	SkippedExchanges []*parity.StepResult `json:"skipped_exchanges"`
}

// Pages of GET /proxy/differences: ?limit= defaults to defaultPage and may not pass
// maxPage, so one answer holds at most maxPage steps of each list (each cut as
// kept.go says), whatever the proxy keeps.
const (
	defaultPage = 100
	maxPage     = 1000
)

// Summary is what the proxy has found so far: the counts, and every difference and
// skipped exchange it keeps, newest first.
func (p *Proxy) Summary() *Summary { return p.summaryPage(0, maxSkippedKept+p.o.MaxDifferences) }

// summaryPage is the Summary with limit differences and skipped exchanges from
// offset, newest first.
func (p *Proxy) summaryPage(offset, limit int) *Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &Summary{Target: p.o.Target, Shadow: p.shadowName(), Exchanges: p.seq.Load(), Same: p.same,
		Different: p.diff, Skipped: p.skipped, NotShadowed: p.notShadowed.Load(),
		Dropped: p.dropped.Load(), RecordDropped: p.recDropped.Load(),
		DifferencesKept: len(p.diffs.items), DifferencesNotKept: p.diffs.dropped,
		SkippedKept: len(p.skips.items), SkippedNotKept: p.skips.dropped, Offset: offset, Limit: limit,
		Differences: p.diffs.newest(offset, limit), SkippedExchanges: p.skips.newest(offset, limit)}
	if next := offset + limit; next < max(len(p.diffs.items), len(p.skips.items)) {
		s.NextOffset = &next
	}
	return s
}

func allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// serveDifferences answers one page of the summary. The steps are written one by
// one, so the answer costs the proxy one step's encoding at a time, not the page's.
func (p *Proxy) serveDifferences(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	offset, limit, err := pageOf(r.URL.Query())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	s := p.summaryPage(offset, limit)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	writeSummary(w, s)
}

// pageOf reads ?offset= and ?limit= (1 to maxPage).
func pageOf(q url.Values) (offset, limit int, err error) {
	offset, limit = 0, defaultPage
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, errors.New("offset must be a non-negative integer")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxPage {
			return 0, 0, fmt.Errorf("limit must be an integer from 1 to %d", maxPage)
		}
	}
	return offset, limit, nil
}

// writeSummary writes s as JSON, its two lists a step at a time.
func writeSummary(w io.Writer, s *Summary) {
	diffs, skipped := s.Differences, s.SkippedExchanges
	s.Differences, s.SkippedExchanges = nil, nil
	var head bytes.Buffer
	henc := json.NewEncoder(&head)
	henc.SetEscapeHTML(false)
	_ = henc.Encode(s)
	s.Differences, s.SkippedExchanges = diffs, skipped
	// The head ends "differences":null,"skipped_exchanges":null}: the lists go there.
	bw := bufio.NewWriter(w)
	_, _ = bw.Write(bytes.TrimSuffix(head.Bytes(), []byte(`"differences":null,"skipped_exchanges":null}`+"\n")))
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i, list := range [][]*parity.StepResult{diffs, skipped} {
		_, _ = bw.WriteString([]string{`"differences":[`, `],"skipped_exchanges":[`}[i])
		for j, st := range list {
			if j > 0 {
				_ = bw.WriteByte(',')
			}
			_ = enc.Encode(st)
		}
	}
	_, _ = bw.WriteString("]}\n")
	_ = bw.Flush()
}

// dashboard is parsed at its first view: every start of the sandbox, which links this
// package for its proxy command, paid for it (0.1 ms and 15 KB before main).
var dashboard = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("proxy").Parse(dashboardHTML))
})

// dashboardStyle is the page's one inline style; the page's Content-Security-Policy
// allows it by its hash and nothing else (no script at all).
const dashboardStyle = `body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}code{font-size:13px}`

// dashboardCSP is the page's policy: the style above, links to the JSON, no framing.
var dashboardCSP = sync.OnceValue(func() string {
	sum := sha256.Sum256([]byte(dashboardStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
})

const dashboardHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>vpay88-sandbox proxy</title>
<style>` + dashboardStyle + `</style>
</head><body>
<h1>Proxy: differences</h1>
<p>Target <code>{{.Target}}</code>, shadow {{.Shadow}}.<br>
{{.Exchanges}} exchanges: {{.Same}} same, {{.Different}} different, {{.Skipped}} skipped, {{.NotShadowed}} not shadowed, {{.Dropped}} dropped (shadow queue full).
The newest {{.Limit}} are listed; the proxy keeps the last {{.DifferencesKept}} differences ({{.DifferencesNotKept}} older ones only counted).
JSON: <a href="/proxy/differences">/proxy/differences</a>. The page reloads every 5 s.</p>
{{if .Differences}}<table><tr><th>exchange</th><th>where</th><th>kind</th><th>target</th><th>sandbox</th><th>profile as the target</th></tr>
{{range .Differences}}{{$n := .Name}}{{range .Diffs}}<tr><td>{{$n}}</td><td><code>{{if .Path}}{{.Path}}{{else}}(answer){{end}}</code></td><td>{{.Kind}}</td><td><code>{{.Target}}</code></td><td><code>{{.Sandbox}}</code></td><td>{{.Profile}}</td></tr>
{{end}}{{end}}</table>{{else}}<p>No difference so far.</p>{{end}}
{{if .SkippedExchanges}}<h2>Not compared</h2><ul>{{range .SkippedExchanges}}<li>{{.Name}}: {{.Skipped}}</li>{{end}}</ul>{{end}}
</body></html>
`

func (p *Proxy) serveDashboard(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", dashboardCSP())
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = dashboard().Execute(w, p.summaryPage(0, defaultPage))
}
