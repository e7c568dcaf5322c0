package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/internal/proxy"
)

// wordyTarget is a real sandbox whose check_status refusals say it otherwise, and
// whose refusals of an id starting BIG- carry a message of size bytes.
func wordyTarget(t *testing.T, size int) *httptest.Server {
	sb := MustStartTarget(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/merchant/check_status" {
			sb.Server.ServeHTTP(w, r)
			return
		}
		_ = r.ParseMultipartForm(1 << 20)
		w.Header().Set("Content-Type", "application/json")
		msg := "Sorry, order not found."
		if strings.HasPrefix(r.FormValue("id"), "BIG-") {
			msg = strings.Repeat("x", size)
		}
		_, _ = fmt.Fprintf(w, `{"status":false,"message":%q}`, msg)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// summaryAt reads GET /proxy/differences with query.
func summaryAt(t *testing.T, base, query string) (int, *proxy.Summary, []byte) {
	t.Helper()
	resp, err := http.Get(base + "/proxy/differences?" + query)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, raw
	}
	var s proxy.Summary
	require.NoError(t, json.Unmarshal(raw, &s), "%s", raw)
	return resp.StatusCode, &s, raw
}

// TestProxyKeepsLastDifferences: the proxy keeps the last MaxDifferences differing
// exchanges and counts the older ones; a kept body is cut at 8 KiB and a difference's
// values at 512 bytes, each saying so, while the integration gets the whole answer;
// GET /proxy/differences pages them newest first.
func TestProxyKeepsLastDifferences(t *testing.T) {
	const big = 200 << 10
	target := wordyTarget(t, big)
	p, err := proxy.New(proxy.Options{Target: target.URL, Username: username, APIKey: apiKey, MaxDifferences: 5, NoAttribution: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)

	for i := 1; i <= 12; i++ {
		id := fmt.Sprintf("none-%d", i)
		if i == 12 {
			id = "BIG-12"
		}
		resp, err := http.PostForm(front.URL+"/merchant/check_status", url.Values{"username": {username}, "id": {id}})
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if i == 12 {
			assert.Len(t, body, big+len(`{"status":false,"message":""}`), "the integration gets the whole answer")
		}
	}
	mustSync(t, p)

	code, s, _ := summaryAt(t, front.URL, "limit=3")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, 12, s.Different, "every differing exchange is counted")
	assert.Equal(t, 5, s.DifferencesKept)
	assert.Equal(t, 7, s.DifferencesNotKept)
	require.Len(t, s.Differences, 3)
	assert.Equal(t, "#12 check_status", s.Differences[0].Name, "newest first")
	assert.Equal(t, "#10 check_status", s.Differences[2].Name)
	require.NotNil(t, s.NextOffset)
	assert.Equal(t, 3, *s.NextOffset)

	newest := s.Differences[0]
	assert.LessOrEqual(t, len(newest.Target.Body), 8<<10+len("…[cut 1000000 bytes]"))
	assert.Contains(t, newest.Target.Body, fmt.Sprintf("…[cut %d bytes]", len(`{"status":false,"message":""}`)+big-8<<10))
	require.NotEmpty(t, newest.Diffs)
	for _, d := range newest.Diffs {
		assert.LessOrEqual(t, len(d.Target), 512+len("…[cut 1000000 bytes]"), d.Path)
	}

	_, s, _ = summaryAt(t, front.URL, "offset=3&limit=3")
	require.Len(t, s.Differences, 2, "five kept")
	assert.Equal(t, "#8 check_status", s.Differences[1].Name)
	assert.Nil(t, s.NextOffset)

	rep := p.Report()
	assert.Len(t, rep.Steps, 5, "the report holds the kept steps")
	assert.Equal(t, 12, rep.Different)

	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "offset=-1"} {
		code, _, raw := summaryAt(t, front.URL, q)
		assert.Equal(t, http.StatusBadRequest, code, q)
		assert.Contains(t, string(raw), "must be", q)
	}
}

// TestProxyQueueBytes: past MaxQueuedBytes an exchange is passed on but neither
// shadowed nor recorded, and counted as dropped.
func TestProxyQueueBytes(t *testing.T) {
	target := wordyTarget(t, 10)
	p, err := proxy.New(proxy.Options{Target: target.URL, Username: username, APIKey: apiKey, MaxQueuedBytes: 1, NoAttribution: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	for range 3 {
		resp, err := http.PostForm(front.URL+"/merchant/check_status", url.Values{"username": {username}, "id": {"x"}})
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	mustSync(t, p)
	s := p.Summary()
	assert.EqualValues(t, 3, s.Dropped)
	assert.Zero(t, s.Same+s.Different)
}

// resettingTarget reads each request whole, then answers with head (nothing when
// empty) and resets the connection (SO_LINGER 0).
func resettingTarget(t *testing.T, head string) string { return resetter(t, head, true) }

// resetter is resettingTarget; with readBody false it resets once it has read the
// request's header, while the body is still coming.
func resetter(t *testing.T, head string, readBody bool) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err == nil && readBody {
					_, _ = io.Copy(io.Discard, req.Body)
					_, _ = io.WriteString(c, head)
				}
				_ = c.(*net.TCPConn).SetLinger(0)
				_ = c.Close()
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// TestProxyPassesResetOn: a target that resets the connection, before its answer or
// in the middle of it, has the integration's connection reset as well, not a 502.
func TestProxyPassesResetOn(t *testing.T) {
	for name, head := range map[string]string{
		"BeforeTheAnswer": "",
		"MidAnswer":       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"status\":true,",
	} {
		t.Run(name, func(t *testing.T) {
			p, err := proxy.New(proxy.Options{Target: resettingTarget(t, head), Username: username, APIKey: apiKey, NoAttribution: true})
			require.NoError(t, err)
			t.Cleanup(func() { _ = p.Close() })
			front := httptest.NewServer(p)
			t.Cleanup(front.Close)
			hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := hc.PostForm(front.URL+"/merchant/currency", url.Values{"username": {username}})
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode, "only the target's own answer")
			}
			require.Error(t, err, "the integration must see the reset")
			assert.ErrorIs(t, err, syscall.ECONNRESET)
			mustSync(t, p)
			assert.EqualValues(t, 1, p.Summary().NotShadowed, "a reset exchange is not compared")
		})
	}
	// A target that resets while the request's body is still on its way: the proxy's
	// write fails (EPIPE, or the connection its reader already closed), and that is
	// the target's reset too (bench/chaos boundsmisc saw 502s here).
	t.Run("MidRequestBody", func(t *testing.T) {
		p, err := proxy.New(proxy.Options{Target: resetter(t, "", false), Username: username, APIKey: apiKey, NoAttribution: true})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		front := httptest.NewServer(p)
		t.Cleanup(front.Close)
		for range 10 {
			hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := hc.PostForm(front.URL+"/merchant/currency", url.Values{"username": {username}, "pad": {strings.Repeat("x", 512<<10)}})
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Fatalf("the integration got %d %q, not a reset", resp.StatusCode, b)
			}
			assert.ErrorIs(t, err, syscall.ECONNRESET)
		}
	})
}

// serve runs the proxy's own server (its timeouts are ListenAndServe's) and returns
// its address.
func serve(t *testing.T, p *proxy.Proxy) string {
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- p.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a.String() }) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case a := <-addr:
		return a
	case err := <-done:
		t.Fatalf("proxy did not listen: %v", err)
		return ""
	}
}

// TestProxyReadTimeouts: a client that stops sending mid-body gets 408 within the
// read timeout, and one that stops mid-headers gets 400 and a closed connection; neither
// request reaches the target.
func TestProxyReadTimeouts(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(target.Close)
	p, err := proxy.New(proxy.Options{Target: target.URL, Username: username, APIKey: apiKey, NoAttribution: true,
		ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	addr := serve(t, p)

	for name, c := range map[string]struct{ sent, want string }{
		"Body": {"POST /merchant/currency HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=", "HTTP/1.1 408 "},
		// Go's server answers a request whose headers stopped coming 400 and closes.
		"Headers": {"POST /merchant/currency HTTP/1.1\r\nHost: x\r\nContent-Ty", "HTTP/1.1 400 "},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			_, err = io.WriteString(conn, c.sent)
			require.NoError(t, err)
			// The guard only: the proxy acts after 300 ms.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			got, err := io.ReadAll(conn)
			require.NoError(t, err, "the proxy closes the connection, not the test's deadline")
			assert.True(t, bytes.HasPrefix(got, []byte(c.want)), "%q", got)
			if name == "Body" {
				assert.Contains(t, string(got), "read timeout")
			}
		})
	}
	assert.Zero(t, hits.Load())
}

// TestProxySlowTargetWithinTimeout: the read timeout bounds the request, not the
// target's answer: a target slower than the read timeout but within the target
// timeouts is passed on.
func TestProxySlowTargetWithinTimeout(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // the slow gateway under test, not a wait for nothing
		case <-time.After(600 * time.Millisecond):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, `{"status":true}`)
	}))
	t.Cleanup(target.Close)
	p, err := proxy.New(proxy.Options{Target: target.URL, Username: username, APIKey: apiKey, NoAttribution: true,
		ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	addr := serve(t, p)
	for _, body := range []string{"username=" + username, ""} {
		resp, err := http.Post("http://"+addr+"/merchant/currency", "application/x-www-form-urlencoded", strings.NewReader(body))
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, `{"status":true}`, string(got))
	}
}

// TestProxyTargetTimeouts: a target that sends no answer within TargetHeaderTimeout
// is a 504; one that stops mid-answer past TargetTimeout has the connection cut.
func TestProxyTargetTimeouts(t *testing.T) {
	release := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/merchant/auth" {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"status":true,`)
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(target.Close)
	t.Cleanup(func() { close(release) })
	p, err := proxy.New(proxy.Options{Target: target.URL, Username: username, APIKey: apiKey, NoAttribution: true,
		TargetHeaderTimeout: 200 * time.Millisecond, TargetTimeout: 400 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)

	resp, err := http.PostForm(front.URL+"/merchant/currency", url.Values{"username": {username}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)

	resp, err = http.PostForm(front.URL+"/merchant/auth", url.Values{"username": {username}, "api_key": {apiKey}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the target's headers came in time")
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the answer is cut at the target timeout")
}
