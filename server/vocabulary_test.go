package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server"
)

// strs spells one of gateway's lists as strings.
func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// vocabularies are gateway's lists by the names the tests below give them.
func vocabularies() map[string][]string {
	paths := []string{}
	for _, e := range gateway.Endpoints() {
		paths = append(paths, e.Path())
	}
	return map[string][]string{
		"kinds":               strs(gateway.Kinds()),
		"statuses":            strs(gateway.Statuses()),
		"outcomes":            strs(gateway.Outcomes()),
		"deposit outcomes":    strs(gateway.SettleOutcomes(gateway.KindDeposit)),
		"withdrawal outcomes": strs(gateway.SettleOutcomes(gateway.KindWithdrawal)),
		"callback states":     gateway.CallbackStates(),
		"retry states":        gateway.RetryStates(),
		"endpoints":           strs(gateway.Endpoints()),
		"endpoint paths":      paths,
		"fault kinds":         strs(gateway.FaultKinds()),
		"queued fault kinds":  strs(gateway.QueuedFaultKinds()),
		"fault bodies":        gateway.FaultBodies(),
		"fault thens":         gateway.FaultThens(),
		"malformed bodies":    gateway.MalformedBodies(),
		"payment types":       gateway.PaymentTypes(),
		"profiles":            {string(gateway.ProfileDocument), string(gateway.ProfileObserved)},
		// The clock's job states are the admin API's own, not the gateway's.
		"clock job states": server.ClockJobStates,
	}
}

// getBody GETs a URL and returns its body, failing the test unless it answers 200.
func getBody(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := http.Get(url)
	require.NoError(tb, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	require.Equal(tb, http.StatusOK, resp.StatusCode, "%s: %s", url, b)
	return string(b)
}

// openAPIEnums walks an OpenAPI node and reports each enum by where it is: the schema or
// operation ("schema Fault", "POST /sandbox/api/faults"), then the field or parameter
// it constrains, with [] for an array's items ("schema Fault endpoints[]").
func openAPIEnums(v any, at, field string, visit func(key string, enum []string)) {
	switch x := v.(type) {
	case map[string]any:
		if _, param := x["in"]; param {
			field, _ = x["name"].(string)
		}
		if e, ok := x["enum"].([]any); ok {
			vals := make([]string, len(e))
			for i, s := range e {
				vals[i], _ = s.(string)
			}
			visit(at+" "+field, vals)
		}
		for k, c := range x {
			switch k {
			case "enum":
			case "properties":
				for f, p := range c.(map[string]any) {
					openAPIEnums(p, at, f, visit)
				}
			case "items":
				openAPIEnums(c, at, field+"[]", visit)
			default:
				openAPIEnums(c, at, field, visit)
			}
		}
	case []any:
		for _, c := range x {
			openAPIEnums(c, at, field, visit)
		}
	}
}

// TestOpenAPIVocabularies checks every enum of the OpenAPI document against the
// gateway list it names: the same values, each once. An enum the table does not know
// fails (name its vocabulary here), and so does a table row no enum matches.
func TestOpenAPIVocabularies(t *testing.T) {
	env := MustOpenEnv(t)
	var doc struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal([]byte(getBody(t, env.URL+"/sandbox/api/openapi.json")), &doc))

	want := map[string]string{
		"schema Order kind":                                      "kinds",
		"schema Order status":                                    "statuses",
		"schema Delivery kind":                                   "kinds",
		"schema Delivery state":                                  "callback states",
		"schema Fault kind":                                      "fault kinds",
		"schema Fault endpoints[]":                               "endpoints",
		"schema Fault body":                                      "fault bodies",
		"schema Fault then":                                      "fault thens",
		"schema Fault malformed":                                 "malformed bodies",
		"GET /sandbox/api/orders kind":                           "kinds",
		"GET /sandbox/api/orders status":                         "statuses",
		"POST /sandbox/api/deposits/{orderid}/settle outcome":    "deposit outcomes",
		"POST /sandbox/api/withdrawals/{orderid}/settle outcome": "withdrawal outcomes",
		"GET /sandbox/api/callbacks state":                       "callback states",
		"POST /sandbox/api/callbacks/retry state":                "retry states",
		"POST /sandbox/api/merchants profile":                    "profiles",
		"PATCH /sandbox/api/merchants/{username} profile":        "profiles",
		"POST /sandbox/api/faults kind":                          "queued fault kinds",
		"POST /sandbox/api/faults body":                          "fault bodies",
		"POST /sandbox/api/faults then":                          "fault thens",
		"POST /sandbox/api/faults malformed":                     "malformed bodies",
		"schema ClockJob state":                                  "clock job states",
	}
	vocab := vocabularies()
	seen := map[string]bool{}
	check := func(key string, enum []string) {
		name, ok := want[key]
		if !assert.True(t, ok, "OpenAPI enum %q at %s names no vocabulary the test knows: add it to want", enum, key) {
			return
		}
		seen[key] = true
		assert.ElementsMatch(t, vocab[name], enum, "%s: the enum differs from gateway's %s", key, name)
	}
	for name, s := range doc.Components.Schemas {
		openAPIEnums(s, "schema "+name, "", check)
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			openAPIEnums(op, strings.ToUpper(method)+" "+path, "", check)
		}
	}
	for key := range want {
		assert.True(t, seen[key], "no enum at %s: the OpenAPI document lost it", key)
	}
}

var (
	formRe     = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	selectRe   = regexp.MustCompile(`(?s)<select\b([^>]*)>(.*?)</select>`)
	checkboxRe = regexp.MustCompile(`<input type="checkbox" name="([^"]+)" value="([^"]*)"`)
	optionRe   = regexp.MustCompile(`<option value="([^"]*)"`)
	showRe     = regexp.MustCompile(`<label data-show="kind:([^"]*)">[^<]*<(?:input|select) name="([^"]+)"`)
	outcomeRe  = regexp.MustCompile(`<button [^>]*data-outcome="([^"]+)"[^>]*>`)
)

// attr is an attribute's value in a tag's attributes, "" when it has none.
func attr(attrs, name string) string {
	m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(attrs)
	if m == nil {
		return ""
	}
	return m[1]
}

// between is the text of s after the first before and up to the next after.
func between(tb testing.TB, s, before, after string) string {
	tb.Helper()
	_, rest, ok := strings.Cut(s, before)
	require.True(tb, ok, "no %q", before)
	in, _, ok := strings.Cut(rest, after)
	require.True(tb, ok, "no %q after %q", after, before)
	return in
}

// TestDashboardVocabularies reads the dashboard as served and checks that each of its
// choices offers exactly the values of the gateway list it names (an "all" choice of
// value "" aside, first), the list's default first; that each field of the fault form
// shows for the kinds that read it; that the drawer settles with the admin API's
// outcomes; that the scenario help names every kind, outcome and fault kind; and that
// the stylesheet and faults.js know every status, callback state and fault kind.
func TestDashboardVocabularies(t *testing.T) {
	env := MustOpenEnv(t)
	page := getBody(t, env.URL+"/sandbox/")
	vocab := vocabularies()

	want := map[string]string{
		"orders-filters kind":       "kinds",
		"orders-filters status":     "statuses",
		"journal-filters endpoint":  "endpoint paths",
		"callbacks-filters state":   "callback states",
		"fault-form endpoint":       "endpoints",
		"fault-form kind":           "queued fault kinds",
		"fault-form body":           "fault bodies",
		"fault-form then":           "fault thens",
		"fault-form malformed":      "malformed bodies",
		"maintenance-form endpoint": "endpoints", // checkboxes
	}
	// The page's own choices, no vocabulary: how often a fault fires.
	own := []string{"fault-form fires"}
	seen := map[string]bool{}
	check := func(key string, values []string) {
		if slices.Contains(own, key) {
			return
		}
		name, ok := want[key]
		if !assert.True(t, ok, "the dashboard's choice %s (%q) names no vocabulary the test knows: render it from gateway and add it to want", key, values) {
			return
		}
		seen[key] = true
		if len(values) > 0 && values[0] == "" {
			values = values[1:] // "all", "every endpoint", "answer as above"
		}
		assert.Equal(t, vocab[name], values, "%s: the choices differ from gateway's %s", key, name)
	}
	for _, f := range formRe.FindAllStringSubmatch(page, -1) {
		form := attr(f[1], "id")
		checks := map[string][]string{}
		for _, c := range checkboxRe.FindAllStringSubmatch(f[2], -1) {
			checks[c[1]] = append(checks[c[1]], c[2])
		}
		for name, values := range checks {
			check(form+" "+name, values)
		}
		for _, s := range selectRe.FindAllStringSubmatch(f[2], -1) {
			// Merchants and currencies come from the configuration, through the API.
			if strings.Contains(s[1], "data-merchants") || strings.Contains(s[1], "data-currencies") {
				continue
			}
			var values []string
			for _, o := range optionRe.FindAllStringSubmatch(s[2], -1) {
				values = append(values, o[1])
			}
			check(form+" "+attr(s[1], "name"), values)
		}
	}
	for key := range want {
		assert.True(t, seen[key], "the dashboard lost its choice %s", key)
	}

	// Each field of the fault form shows for the kinds that read it.
	fields := gateway.FaultFieldKinds()
	shown := map[string]bool{}
	for _, m := range showRe.FindAllStringSubmatch(page, -1) {
		shown[m[2]] = true
		assert.ElementsMatch(t, strs(fields[m[2]]), strings.Fields(m[1]), "fault form field %s shows for other kinds", m[2])
	}
	for f := range fields {
		assert.True(t, shown[f], "the fault form has no field %s", f)
	}

	// The drawer settles with the admin API's outcomes, the payout-only ones on
	// withdrawals only.
	drawer := between(t, page, `id="drawer-actions"`, `</div>
  </div>`)
	var all, deposit []string
	for _, m := range outcomeRe.FindAllStringSubmatch(drawer, -1) {
		all = append(all, m[1])
		if !strings.Contains(m[0], "data-withdrawal-only") {
			deposit = append(deposit, m[1])
		}
	}
	assert.ElementsMatch(t, vocab["withdrawal outcomes"], all, "the drawer's outcome buttons")
	assert.ElementsMatch(t, vocab["deposit outcomes"], deposit, "the drawer's outcome buttons a deposit shows")

	// The scenario help names every kind, outcome and fault kind a rule takes.
	help := between(t, page, `<aside class="help">`, `</aside>`)
	assert.Equal(t, vocab["kinds"], strings.Split(between(t, help, "<code>kind</code> (", ")"), ", "))
	assert.Equal(t, vocab["outcomes"], strings.Split(between(t, help, "<code>outcome</code> (", ")"), ", "))
	assert.Equal(t, vocab["queued fault kinds"], strings.Split(between(t, help, "<code>kind</code>: ", ", with"), ", "))

	// The stylesheet colours every status and callback state; faults.js says what every
	// kind of fault does.
	css := getBody(t, env.URL+"/sandbox/static/dashboard.css")
	for _, v := range append(vocab["statuses"], vocab["callback states"]...) {
		assert.Contains(t, css, ".badge.s-"+v, "no badge colour for %s", v)
	}
	effects := between(t, getBody(t, env.URL+"/sandbox/static/faults.js"), "const EFFECT = {", "\n};")
	var kinds []string
	for _, m := range regexp.MustCompile(`(?m)^  (\w+): `).FindAllStringSubmatch(effects, -1) {
		kinds = append(kinds, m[1])
	}
	sort.Strings(kinds)
	want2 := slices.Sorted(slices.Values(vocab["fault kinds"]))
	assert.Equal(t, want2, kinds, "faults.js's EFFECT describes each kind of fault")
}

// TestDashboardBrowserVocabulary uses two choices the hand-typed lists lacked: the
// journal's filter narrows to /wallet/get_balance, and the fault form adds a status
// fault with a cloudflare body that the next request gets.
func TestDashboardBrowserVocabulary(t *testing.T) {
	env := MustOpenEnv(t)
	b := mustBrowser(t, 60*time.Second)
	env.Call(t, "/wallet/get_balance", map[string]string{"username": testMerchant, "api_key": testAPIKey})
	env.Call(t, "/merchant/currency", map[string]string{"username": testMerchant})

	b.do(chromedp.Navigate(env.URL+"/sandbox/#journal"), visible(`#live[data-mode="live"]`),
		visible(`#journal-table tbody tr[data-id]:nth-child(2)`))
	b.choose(`#journal-filters select[name="endpoint"]`, "/wallet/get_balance")
	b.do(absent(`#journal-table tbody tr[data-id]:nth-child(2)`))
	assert.Equal(t, "/wallet/get_balance", b.text(`#journal-table tbody tr[data-id] td:nth-child(2)`))

	b.do(click(`#tab-faults`), visible(`#fault-form`))
	b.choose(`#fault-kind`, "status")
	b.choose(`#fault-form select[name="endpoint"]`, "get_balance")
	b.choose(`#fault-form select[name="body"]`, "cloudflare")
	b.do(setValue(`#fault-form input[name="status"]`, "521"), click(`#fault-add`), hasText(`#fault-msg.ok`, "added"))
	assert.Contains(t, b.text(`#faults-table tbody tr[data-kind="status"]`), "cloudflare body")
	code, body := env.PostForm(t, "/wallet/get_balance", map[string]string{"username": testMerchant, "api_key": testAPIKey})
	assert.Equal(t, 521, code)
	assert.Contains(t, string(body), "cf-error-details", "Cloudflare's page")
	b.noScriptErrors()
}
