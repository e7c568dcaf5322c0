package proxy

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"sync"

	"github.com/vpay88/vpay88-sandbox/parity"
)

// Summary is the answer of GET /proxy/differences.
type Summary struct {
	Target string `json:"target"`
	Shadow string `json:"shadow"`
	// Exchanges is every request passed on.
	Exchanges int64 `json:"exchanges"`
	Same      int   `json:"same"`
	Different int   `json:"different"`
	Skipped   int   `json:"skipped"`
	// NotShadowed: not a vendor endpoint, the target unreachable, a body over 1 MiB,
	// or no shadow (no credentials yet). Dropped: the shadow's queue was full.
	NotShadowed      int64                `json:"not_shadowed"`
	Dropped          int64                `json:"dropped"`
	RecordDropped    int64                `json:"record_dropped"`
	Differences      []*parity.StepResult `json:"differences"`
	SkippedExchanges []*parity.StepResult `json:"skipped_exchanges"`
}

// Summary is what the proxy has found so far.
func (p *Proxy) Summary() *Summary {
	rep := p.Report()
	s := &Summary{Target: p.o.Target, Shadow: rep.Sandbox, Exchanges: p.seq.Load(), Same: rep.Same,
		Different: rep.Different, Skipped: rep.Skipped, NotShadowed: p.notShadowed.Load(),
		Dropped: p.dropped.Load(), RecordDropped: p.recDropped.Load(),
		Differences: []*parity.StepResult{}, SkippedExchanges: []*parity.StepResult{}}
	for _, st := range rep.Steps {
		switch {
		case st.Skipped != "":
			s.SkippedExchanges = append(s.SkippedExchanges, st)
		case len(st.Diffs) > 0:
			s.Differences = append(s.Differences, st)
		}
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

func (p *Proxy) serveDifferences(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p.Summary())
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
	_ = dashboard().Execute(w, p.Summary())
}
