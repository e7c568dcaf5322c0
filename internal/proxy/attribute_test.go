package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

// TestProxyAttribution: the target answers as live gateways do, accepting a deposit
// without email and phone_number, and words its status refusals its own way. The
// shadow runs the document profile: the deposit's differences are attributed to the
// observed profile, the message's to neither; the deposit, created in the shadow to
// follow the target, then compares alike.
func TestProxyAttribution(t *testing.T) {
	sb := MustStartTarget(t, func(cfg *config.Config) { cfg.Profile = gateway.ProfileObserved })
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sb.Server.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if r.URL.Path == "/merchant/check_status" {
			body = bytes.Replace(body, []byte(`"message":"`), []byte(`"message":"Sorry, `), 1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(target.Close)
	p, err := proxy.New(proxy.Options{Target: target.URL})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = p.Close() })

	c := converse(t, front.URL) // #1
	c.call(client.EndpointGenerateOrders, url.Values{"username": {"john"}, "auth": {c.auth}, "amount": {"100"},
		"currency": {"MYR"}, "orderid": {"PA-1"}}) // #2: no email, no phone_number
	c.status(client.EndpointCheckStatus, "PA-1") // #3
	c.status(client.EndpointCheckStatus, "none") // #4
	mustSync(t, p)

	rep := p.Report()
	assert.Equal(t, []string{
		"#2 generate_orders message key_only_in_sandbox observed",
		"#2 generate_orders p_url key_only_in_target observed",
		"#2 generate_orders status value observed",
		"#4 check_status message value neither",
	}, differences(rep))
	assert.Equal(t, gateway.ProfileDocument, rep.Profile)
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.Contains(t, table.String(), "(matches the observed profile)")

	resp, err := http.Get(front.URL + "/proxy/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(page), "<td>observed</td>")
}

// TestProxyNoAttribution: without the second shadow the differences say nothing of
// profiles.
func TestProxyNoAttribution(t *testing.T) {
	sb := MustStartTarget(t, func(cfg *config.Config) { cfg.Profile = gateway.ProfileObserved })
	p, err := proxy.New(proxy.Options{Target: sb.URL, NoAttribution: true})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = p.Close() })
	c := converse(t, front.URL)
	c.call(client.EndpointGenerateOrders, url.Values{"username": {"john"}, "auth": {c.auth}, "amount": {"100"},
		"currency": {"MYR"}, "orderid": {"PA-1"}})
	mustSync(t, p)
	rep := p.Report()
	require.Len(t, rep.Steps, 2)
	require.NotEmpty(t, rep.Steps[1].Diffs)
	for _, d := range rep.Steps[1].Diffs {
		assert.Empty(t, d.Profile, d.Path)
	}
	assert.Len(t, proxy.ShadowSandboxes(p), 1)
	assert.NotContains(t, rep.Sandbox, "second shadow")
}
