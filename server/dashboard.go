package server

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/web"
)

// dashboardPage is parsed at the first dashboard view, not at start-up (see pages).
var dashboardPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(web.FS, "templates/dashboard.html"))
})

// dashboardVersion changes whenever a file of the dashboard does. The page links its
// stylesheet and its entry module under /sandbox/static/<version>/, and the modules
// import each other by relative URLs, so every file of a page comes from one version
// and a browser never runs a stale module against a new API.
// It hashes every file of the dashboard, half a millisecond, so it is made at the
// first page or file asked for, not at start-up.
var dashboardVersion = sync.OnceValue(func() string {
	h := sha256.New()
	names, _ := fs.Glob(web.FS, "static/*")
	for _, name := range append(names, "templates/dashboard.html") {
		b, _ := fs.ReadFile(web.FS, name)
		h.Write([]byte(name))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
})

// dashboardCSP keeps the page to its own origin: no CDN, no inline script, no framing.
// All data reaches the DOM through textContent, and this policy is the second line.
const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type dashboardData struct {
	Version string
	// TokenRequired tells the page to ask for the admin token before its first call
	// instead of waiting for a 401. The page itself holds no data, so it is not guarded:
	// a browser cannot send a bearer token when it navigates.
	TokenRequired bool
	// Vocab is what the page's choices offer, rendered from gateway's lists.
	Vocab *dashboardVocab
}

// option is one choice of a <select>: the value sent and the words shown.
type option struct{ Value, Label string }

// dashboardVocab holds the page's choices, each from gateway's vocabulary (the
// dashboard types none of them): the filters' kinds, statuses, endpoint paths and
// callback states, the fault form's endpoints, kinds, bodies and thens, and the lists
// the scenario help names. Fields are plain data, since the pages' template package
// calls no methods. gateway's dialect switches belong here when they land.
type dashboardVocab struct {
	Kinds, Statuses, CallbackStates, Endpoints, Outcomes, FaultBodies, Malformed []string
	// EndpointPaths are the journal filter's values: the journal keeps routes.
	EndpointPaths []string
	// FaultKinds are the kinds the fault form queues (maintenance has its own form),
	// and the scenario help's effect.fault kinds.
	FaultKinds, FaultThens []option
	// FaultShows says which kinds show each field of the fault form: "status lost_answer".
	FaultShows map[string]string
}

// faultLabels say in a few words what each kind of fault does, for the fault form; a
// kind without one shows its name alone. thenLabels do the same for lost_answer's then.
var (
	faultLabels = map[gateway.FaultKind]string{
		gateway.FaultStatus: "an error answer", gateway.FaultHang: "no answer", gateway.FaultReset: "connection reset",
		gateway.FaultSlow: "a late answer", gateway.FaultLostAnswer: "done, answer lost",
		gateway.FaultMalformed: "broken JSON", gateway.FaultMessage: "a forced message",
	}
	thenLabels = map[string]string{gateway.ThenReset: "reset the connection"}
)

// vocabulary is made once: gateway's lists never change while the sandbox runs.
var vocabulary = sync.OnceValue(func() *dashboardVocab {
	v := &dashboardVocab{
		Kinds: names(gateway.Kinds()), Statuses: names(gateway.Statuses()), CallbackStates: gateway.CallbackStates(),
		Endpoints: names(gateway.Endpoints()), Outcomes: names(gateway.Outcomes()),
		FaultBodies: gateway.FaultBodies(), Malformed: gateway.MalformedBodies(), FaultShows: map[string]string{},
	}
	for _, e := range gateway.Endpoints() {
		v.EndpointPaths = append(v.EndpointPaths, e.Path())
	}
	for _, k := range gateway.QueuedFaultKinds() {
		o := option{Value: string(k), Label: string(k)}
		if l := faultLabels[k]; l != "" {
			o.Label += ": " + l
		}
		v.FaultKinds = append(v.FaultKinds, o)
	}
	for _, t := range gateway.FaultThens() {
		v.FaultThens = append(v.FaultThens, option{Value: t, Label: cmp.Or(thenLabels[t], t)})
	}
	for field, ks := range gateway.FaultFieldKinds() {
		v.FaultShows[field] = strings.Join(names(ks), " ")
	}
	return v
})

// names spells a list of gateway's names as strings.
func names[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// registerDashboardRoutes mounts the QA dashboard at /sandbox/ and its static files at
// /sandbox/static/. The page is a shell; everything it shows comes from /sandbox/api.
func (s *Server) registerDashboardRoutes(e *echo.Echo) {
	e.GET("/sandbox", func(c echo.Context) error {
		return c.Redirect(http.StatusFound, "/sandbox/")
	})
	e.GET("/sandbox/", s.handleDashboard)
	static, _ := fs.Sub(web.FS, "static")
	files := http.FileServer(http.FS(static))
	plain := http.StripPrefix("/sandbox/static/", files)
	e.GET("/sandbox/static/*", echo.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Versioned URLs never change content; unversioned ones are revalidated.
		if versioned := "/sandbox/static/" + dashboardVersion() + "/"; strings.HasPrefix(r.URL.Path, versioned) {
			w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
			http.StripPrefix(versioned, files).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		plain.ServeHTTP(w, r)
	})))
}

func (s *Server) handleDashboard(c echo.Context) error {
	var b strings.Builder
	if err := dashboardPage().ExecuteTemplate(&b, "dashboard", dashboardData{
		Version: dashboardVersion(), TokenRequired: s.adminToken != "", Vocab: vocabulary(),
	}); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	return c.HTML(http.StatusOK, b.String())
}
