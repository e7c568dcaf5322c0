package proxy_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

// TestReplay records a conversation through the proxy against the fake with its four
// planted differences (multipart and URL-encoded requests, a checkout page reached
// through a p_url, an order the two sides disagree on), then replays the recording
// offline: the same differences, attributed alike, and the same step skipped; none
// invented, though the recording holds masks where the api_key and the tokens were.
func TestReplay(t *testing.T) {
	f := newFake(t)
	recording := filepath.Join(t.TempDir(), "capture.jsonl")
	p, err := proxy.New(proxy.Options{Target: f.srv.URL, Record: recording})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(func() { _ = p.Close() })

	c := &conversation{t: t, front: front.URL, gw: client.New(front.URL)}
	c.call(client.EndpointCurrency, url.Values{"username": {username}}) // before the credentials
	var a struct{ Auth string }
	c.decode(c.call(client.EndpointAuth, url.Values{"username": {username}, "api_key": {apiKey}}), &a)
	c.auth = a.Auth
	var dep struct {
		PURL string `json:"p_url"`
	}
	c.decode(c.deposit("PX-1", "100"), &dep)
	c.deposit("PX-REFUSED", "100")
	c.status(client.EndpointCheckStatus, "PX-1")
	c.status(client.EndpointCheckStatus, "PX-REFUSED")
	c.status(client.EndpointCheckStatus, "none")
	c.call(client.EndpointWithdrawBankList, url.Values{"username": {username}, "currency": {"MYR"}})
	form := url.Values{"username": {username}, "auth": {c.auth}, "currency": {"MYR"}}.Encode()
	hr, err := http.Post(front.URL+"/wallet/bank_list", "application/x-www-form-urlencoded", strings.NewReader(form))
	require.NoError(t, err)
	hr.Body.Close()
	pu, err := url.Parse(dep.PURL)
	require.NoError(t, err)
	hr, err = http.Get(front.URL + pu.RequestURI())
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, hr.Body)
	hr.Body.Close()
	// A token the integration made up: the target refuses it, and so must the replay.
	c.call(client.EndpointBankList, url.Values{"username": {username}, "auth": {"made-up"}, "currency": {"MYR"}})
	mustSync(t, p)
	live := p.Report()
	require.NoError(t, p.Close())

	want := []string{
		"#2 auth expires_in key_only_in_target neither",
		"#4 generate_orders message key_only_in_target neither",
		"#4 generate_orders p_url key_only_in_sandbox neither",
		"#4 generate_orders status value neither",
		"#6 check_status skipped",
		"#7 check_status message value neither",
		"#8 withdraw_bank_list data[].id type neither",
	}
	require.Equal(t, want, differences(live))
	for _, st := range live.Steps {
		if strings.HasPrefix(st.Name, "#10 p_url page") || strings.HasPrefix(st.Name, "#11 ") || strings.HasPrefix(st.Name, "#9 ") {
			assert.Empty(t, st.Diffs, st.Name)
		}
	}
	b, err := os.ReadFile(recording)
	require.NoError(t, err)
	require.NotContains(t, string(b), apiKey)
	require.NotContains(t, string(b), c.auth)

	replayed, err := proxy.Replay(context.Background(), recording, proxy.ReplayOptions{})
	require.NoError(t, err)
	assert.Equal(t, want, differences(replayed), "the same differences, none invented")
	require.Len(t, replayed.Steps, len(live.Steps), "every exchange compared again")
	for i, st := range replayed.Steps {
		assert.Equal(t, live.Steps[i].Name, st.Name)
		if st.Skipped == "" {
			assert.Equal(t, live.Steps[i].Target.Status, st.Target.Status, st.Name)
			assert.Equal(t, live.Steps[i].Sandbox.Status, st.Sandbox.Status, "%s: the shadow answers the replay as it answered live", st.Name)
		}
	}
	assert.Equal(t, live.Same, replayed.Same)
	assert.Contains(t, replayed.Target, "recording of "+f.srv.URL)
	var out bytes.Buffer
	require.NoError(t, replayed.WriteTable(&out))
	assert.Contains(t, out.String(), "expires_in")
	assert.NotContains(t, out.String(), "EPSOWM0eewwrwer0OfUo", "the shadow's own api_key is masked too")
}

// TestReplayRefusesOthers: a parity recording is no proxy recording, and a proxy
// recording whose exchanges never carry credentials starts no shadow.
func TestReplayRefusesOthers(t *testing.T) {
	dir := t.TempDir()
	par := filepath.Join(dir, "parity.json")
	require.NoError(t, (&parity.Recording{Format: parity.RecordingFormat, Target: "https://gw.example"}).WriteFile(par))
	ok, err := proxy.IsRecording(par)
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = proxy.Replay(context.Background(), par, proxy.ReplayOptions{})
	assert.ErrorContains(t, err, "no "+proxy.RecordingFormat+" header")

	f := newFake(t)
	rec := filepath.Join(dir, "anonymous.jsonl")
	p, err := proxy.New(proxy.Options{Target: f.srv.URL, Record: rec})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	defer front.Close()
	resp, err := http.PostForm(front.URL+"/merchant/currency", url.Values{"username": {username}})
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, p.Close())
	ok, err = proxy.IsRecording(rec)
	require.NoError(t, err)
	assert.True(t, ok)
	rep, err := proxy.Replay(context.Background(), rec, proxy.ReplayOptions{})
	assert.ErrorContains(t, err, "no shadow started")
	require.NotNil(t, rep)
	assert.Empty(t, rep.Steps)
}
