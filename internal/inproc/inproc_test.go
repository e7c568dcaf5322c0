package inproc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
)

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestRecorderRespondHook: the hook chooses the n-th answer, sees the body, and the
// recorder keeps arrival number, headers and the status it answered.
func TestRecorderRespondHook(t *testing.T) {
	r, err := inproc.NewRecorder(inproc.RecorderOptions{Respond: func(n int, w http.ResponseWriter, req *http.Request, _ <-chan struct{}) {
		b, _ := io.ReadAll(req.Body)
		if n == 1 {
			http.Error(w, "down: "+string(b), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}})
	require.NoError(t, err)
	defer r.Close()
	body := `{"order_id":"A-1","amount":1.0000,"currency":"MYR","order_status":"completed","status":true,"token":"x"}`
	assert.Equal(t, http.StatusBadGateway, post(t, r.URL(), body).StatusCode)
	assert.Equal(t, http.StatusNoContent, post(t, r.URL(), body).StatusCode)
	ds, err := r.Next(2, time.Second)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, []int{ds[0].N, ds[1].N})
	assert.Equal(t, "application/json", ds[0].Header.Get("Content-Type"))
	assert.Equal(t, body, string(ds[1].Body))
	all := r.Deliveries()
	assert.Equal(t, []int{http.StatusBadGateway, http.StatusNoContent}, []int{all[0].Answered, all[1].Answered})
	assert.True(t, all[0].Verified(), "no secret: tokens are not checked")
	_, err = r.Next(1, 20*time.Millisecond)
	assert.ErrorIs(t, err, inproc.ErrTimeout)
}

// TestRecorderCloseReleases: Close releases a hook that hangs on purpose, and a new
// recorder can take the same address again.
func TestRecorderCloseReleases(t *testing.T) {
	r, err := inproc.NewRecorder(inproc.RecorderOptions{Respond: func(_ int, w http.ResponseWriter, req *http.Request, release <-chan struct{}) {
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}})
	require.NoError(t, err)
	go func() {
		c := http.Client{Timeout: 10 * time.Second}
		if resp, err := c.Post(r.URL(), "text/plain", strings.NewReader("x")); err == nil {
			resp.Body.Close()
		}
	}()
	_, err = r.Next(1, 5*time.Second)
	require.NoError(t, err)
	start := time.Now()
	r.Close()
	r.Close() // twice is fine
	assert.Less(t, time.Since(start), 5*time.Second)

	again, err := inproc.NewRecorder(inproc.RecorderOptions{Addr: strings.TrimPrefix(r.URL(), "http://")})
	require.NoError(t, err)
	defer again.Close()
	assert.Equal(t, r.URL(), again.URL())
}

// TestStart_RecorderVerifies: a sandbox with a Recorder gets the first merchant's
// callbacks, verified with its secret; Close removes its temporary file.
func TestStart_RecorderVerifies(t *testing.T) {
	sb, err := inproc.Start(inproc.Options{Recorder: true, Seed: 1})
	require.NoError(t, err)
	defer sb.Close()
	assert.Equal(t, sb.Recorder.URL(), sb.Config.Merchants[0].CallbackURL)
	assert.True(t, strings.HasPrefix(sb.URL, "http://127.0.0.1:"))

	form := func(path string, v url.Values) map[string]any {
		resp, err := http.PostForm(sb.URL+path, v)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m
	}
	auth := form("/merchant/auth", url.Values{"username": {"vpay88-test"}, "api_key": {"EPSOWM0eewwrwer0OfUo"}})
	m := form("/merchant/generate_orders", url.Values{"username": {"john"}, "auth": {auth["auth"].(string)}, "amount": {"100"},
		"currency": {"MYR"}, "orderid": {"IN-1"}, "email": {"success@example.com"}, "phone_number": {"601012456789"}})
	require.Equal(t, true, m["status"], "%v", m)
	cb, err := sb.Recorder.Wait("IN-1", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, gateway.Token(sb.Config.Merchants[0].SecretKey, "IN-1"), cb.Token)
	sb.Close()
	sb.Close()
}
