package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

const (
	username = "vpay88-test"
	apiKey   = "EPSOWM0eewwrwer0OfUo"
)

// answer is one answer the fake gateway sent, as it sent it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// fake is a gateway that is a real sandbox but for four planted differences:
//  1. auth answers carry an extra key, expires_in;
//  2. check_status refusals have another message text;
//  3. the withdrawal bank list writes ids as numbers, not strings;
//  4. it refuses the deposit PX-REFUSED (Order ID Exist), which the shadow accepts.
type fake struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent []answer
}

var quotedID = regexp.MustCompile(`"id":"(\d+)"`)

func newFake(t *testing.T) *fake {
	sb, err := inproc.Start(inproc.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		_ = r.ParseMultipartForm(1 << 20)
		r.Body = io.NopCloser(bytes.NewReader(body))
		out := ""
		if r.URL.Path == "/merchant/generate_orders" && r.FormValue("orderid") == "PX-REFUSED" {
			rec.Header().Set("Content-Type", "application/json")
			out = `{"status":false,"message":"Order ID Exist."}`
		} else {
			r2 := r.Clone(r.Context())
			r2.Body = io.NopCloser(bytes.NewReader(body))
			sb.Server.ServeHTTP(rec, r2)
			out = rec.Body.String()
		}
		switch r.URL.Path {
		case "/merchant/auth":
			out = strings.Replace(out, `{"status":true,`, `{"status":true,"expires_in":1800,`, 1)
		case "/merchant/check_status":
			out = strings.Replace(out, `"message":"`, `"message":"Sorry, `, 1)
		case "/wallet/withdraw_bank_list":
			out = quotedID.ReplaceAllString(out, `"id":$1`)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("X-Gateway", "fake")
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = io.WriteString(w, out)
		f.mu.Lock()
		f.sent = append(f.sent, answer{rec.Code, w.Header().Clone(), []byte(out)})
		f.mu.Unlock()
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) last() answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[len(f.sent)-1]
}

// TestProxy: the integration gets the fake's answers byte for byte; the shadow,
// whose merchant is learnt from the traffic, reports the four planted differences
// and nothing else; a deposit made with the target's token succeeds in the shadow;
// the recording masks the secrets.
func TestProxy(t *testing.T) {
	f := newFake(t)
	recording := filepath.Join(t.TempDir(), "capture.jsonl")
	p, err := proxy.New(proxy.Options{Target: f.srv.URL, Record: recording})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = p.Close() })

	// Multipart, as the vendor's PHP posts.
	gw := client.New(front.URL)
	ctx := context.Background()
	call := func(e client.Endpoint, fields url.Values) *client.Response {
		t.Helper()
		resp, err := gw.Do(ctx, e, fields)
		require.NoError(t, err)
		sent := f.last()
		assert.Equal(t, sent.status, resp.StatusCode, "%s: the target's status", e)
		assert.Equal(t, string(sent.body), string(resp.Body), "%s: the target's bytes", e)
		assert.Equal(t, "fake", resp.Header.Get("X-Gateway"), "%s: the target's headers", e)
		assert.Equal(t, sent.header.Get("Content-Type"), resp.Header.Get("Content-Type"))
		return resp
	}
	call(client.EndpointCurrency, url.Values{"username": {username}}) // before the credentials: waits for the shadow
	resp := call(client.EndpointAuth, url.Values{"username": {username}, "api_key": {apiKey}})
	var auth struct{ Auth string }
	require.NoError(t, json.Unmarshal(resp.Body, &auth))
	require.NotEmpty(t, auth.Auth)
	deposit := func(id string) url.Values {
		return url.Values{"username": {"john"}, "auth": {auth.Auth}, "amount": {"100"}, "currency": {"MYR"},
			"orderid": {id}, "email": {"john@example.com"}, "phone_number": {"601012456789"}}
	}
	call(client.EndpointGenerateOrders, deposit("PX-1"))
	call(client.EndpointGenerateOrders, deposit("PX-REFUSED"))
	call(client.EndpointCheckStatus, url.Values{"username": {username}, "id": {"PX-1"}})
	call(client.EndpointCheckStatus, url.Values{"username": {username}, "id": {"PX-REFUSED"}}) // not compared
	call(client.EndpointCheckStatus, url.Values{"username": {username}, "id": {"none"}})
	call(client.EndpointWithdrawBankList, url.Values{"username": {username}, "currency": {"MYR"}})
	// URL-encoded too: the shadow hears it in the same encoding.
	form := url.Values{"username": {username}, "auth": {auth.Auth}, "currency": {"MYR"}}.Encode()
	hr, err := http.Post(front.URL+"/wallet/bank_list", "application/x-www-form-urlencoded", strings.NewReader(form))
	require.NoError(t, err)
	raw, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	assert.Equal(t, string(f.last().body), string(raw))

	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, p.Sync(sctx))

	// /proxy/differences, as a dashboard or a script reads it.
	hr, err = http.Get(front.URL + "/proxy/differences")
	require.NoError(t, err)
	var sum proxy.Summary
	require.NoError(t, json.NewDecoder(hr.Body).Decode(&sum))
	hr.Body.Close()

	var got []string
	for _, st := range sum.Differences {
		for _, d := range st.Diffs {
			got = append(got, st.Name+" "+d.Path+" "+d.Kind)
		}
	}
	slices.Sort(got)
	assert.Equal(t, []string{
		"#2 auth expires_in key_only_in_target",
		"#4 generate_orders message key_only_in_target",
		"#4 generate_orders p_url key_only_in_sandbox",
		"#4 generate_orders status value",
		"#7 check_status message value",
		"#8 withdraw_bank_list data[].id type",
	}, got, "every planted difference, none invented")
	assert.EqualValues(t, 9, sum.Exchanges)
	assert.Equal(t, 4, sum.Different)
	assert.Equal(t, 4, sum.Same)
	assert.Equal(t, 1, sum.Skipped)
	require.Len(t, sum.SkippedExchanges, 1)
	assert.Contains(t, sum.SkippedExchanges[0].Skipped, "PX-REFUSED")
	assert.Zero(t, sum.Dropped)

	rep := p.Report()
	var dep *string
	for _, st := range rep.Steps {
		if st.Name == "#3 generate_orders" {
			assert.Empty(t, st.Diffs)
			assert.Contains(t, st.Sandbox.Body, `"status":true`, "the target's token worked in the shadow")
			dep = &st.Sandbox.Body
		}
	}
	require.NotNil(t, dep, "the deposit was compared")

	page, err := http.Get(front.URL + "/proxy/")
	require.NoError(t, err)
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	assert.Contains(t, string(html), "expires_in")
	// Its policy allows its one inline style by hash, and no script.
	csp := page.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(string(html))
	require.NotNil(t, m)
	styleHash := sha256.Sum256([]byte(m[1]))
	assert.Contains(t, csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(styleHash[:])+"'", "the hash of the style the page carries")
	assert.NotContains(t, strings.ToLower(string(html)), "<script")

	require.NoError(t, p.Close())
	b, err := os.ReadFile(recording)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	assert.Len(t, lines, 1+9, "a header and one line per exchange")
	assert.Contains(t, lines[0], proxy.RecordingFormat)
	assert.NotContains(t, string(b), apiKey, "the api_key is masked")
	assert.NotContains(t, string(b), auth.Auth, "the auth token is masked")
	var first proxy.RecordedExchange
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &first))
	assert.Equal(t, "[redacted]", first.Request["api_key"])
	assert.Equal(t, "/merchant/auth", first.Path)

	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.Contains(t, table.String(), "expires_in")
}

// TestProxyTargetDown: an unreachable target is a 502 to the integration, and
// nothing is compared.
func TestProxyTargetDown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	p, err := proxy.New(proxy.Options{Target: dead.URL, Username: username, APIKey: apiKey})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	defer front.Close()
	resp, err := http.PostForm(front.URL+"/merchant/currency", url.Values{"username": {username}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	require.NoError(t, p.Close())
	s := p.Summary()
	assert.EqualValues(t, 1, s.NotShadowed)
	assert.Zero(t, s.Same+s.Different)
}
