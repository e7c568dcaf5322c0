package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveHealthz serves a /healthz answering status on l until the test ends.
func serveHealthz(t *testing.T, l net.Listener, status int) {
	t.Helper()
	srv := healthzServer(t, status)
	go func() { _ = srv.Serve(l) }()
}

// healthzServer is a server whose /healthz answers status; it is closed when the test
// ends, whether or not it has started serving.
func healthzServer(t *testing.T, status int) *http.Server {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}), ReadHeaderTimeout: time.Second}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// freePort returns a port of 127.0.0.1 that nothing listens on (it was free a moment
// ago: the listener that found it is closed).
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	require.NoError(t, l.Close())
	return port
}

func healthcheck(args ...string) (int, string) {
	var out, errOut strings.Builder
	code := run(append([]string{"healthcheck"}, args...), &out, &errOut)
	return code, errOut.String()
}

func TestHealthcheck(t *testing.T) {
	t.Run("HealthyAtOnce", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		serveHealthz(t, l, http.StatusOK)
		for _, args := range [][]string{{}, {"--wait", "5s"}, {"-wait=5s"}} {
			start := time.Now()
			code, msg := healthcheck(append([]string{"--addr", l.Addr().String()}, args...)...)
			assert.Equal(t, 0, code, "%v: %s", args, msg)
			assert.Less(t, time.Since(start), time.Second, "%v: a healthy server is not waited for", args)
		}
	})

	t.Run("HealthyAfterDelay", func(t *testing.T) {
		port := freePort(t)
		srv := healthzServer(t, http.StatusOK)
		go func() {
			time.Sleep(700 * time.Millisecond)
			for range 20 { // the port may still be in use for a moment
				l, err := net.Listen("tcp", "127.0.0.1:"+port)
				if err == nil {
					if srv.Serve(l) == http.ErrServerClosed {
						l.Close() // closed before it served: Serve leaves l open
					}
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		start := time.Now()
		code, msg := healthcheck("--addr", "127.0.0.1:"+port, "--wait", "10s")
		assert.Equal(t, 0, code, msg)
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, 700*time.Millisecond)
		assert.Less(t, took, 5*time.Second, "asked again within 250 ms of the server coming up")
	})

	t.Run("NotYetHealthy", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		serveHealthz(t, l, http.StatusServiceUnavailable)
		code, msg := healthcheck("--addr", l.Addr().String(), "--wait", "600ms")
		assert.Equal(t, 1, code)
		assert.Regexp(t, `^healthcheck: http://127\.0\.0\.1:\d+/healthz not healthy after 600ms: status 503\n$`, msg)
	})

	t.Run("TimeoutOnClosedPort", func(t *testing.T) {
		port := freePort(t)
		start := time.Now()
		code, msg := healthcheck("--addr", "127.0.0.1:"+port, "--wait", "800ms")
		took := time.Since(start)
		assert.Equal(t, 1, code)
		assert.Equal(t, 1, strings.Count(msg, "\n"), "one line: %q", msg)
		assert.Contains(t, msg, "http://127.0.0.1:"+port+"/healthz not healthy after 800ms: ")
		assert.Contains(t, msg, "connection refused")
		assert.GreaterOrEqual(t, took, 800*time.Millisecond)
		assert.Less(t, took, 3*time.Second)
	})

	t.Run("NoWaitAsBefore", func(t *testing.T) {
		port := freePort(t)
		start := time.Now()
		code, msg := healthcheck("--addr", "127.0.0.1:"+port)
		assert.Equal(t, 1, code)
		assert.Less(t, time.Since(start), time.Second, "one attempt")
		assert.Contains(t, msg, `healthcheck: Get "http://127.0.0.1:`+port+`/healthz"`)
	})

	t.Run("BadWait", func(t *testing.T) {
		for _, args := range [][]string{{"--wait"}, {"--wait", "soon"}, {"--wait=-1s"}} {
			code, msg := healthcheck(args...)
			assert.Equal(t, 2, code, "%v", args)
			assert.Contains(t, msg, "--wait", "%v", args)
		}
	})
}

// TestHealthcheckWaitFlag: --wait is taken out and the serve flags around it are kept.
func TestHealthcheckWaitFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		wait time.Duration
		rest []string
	}{
		{nil, 0, []string{}},
		{[]string{"--addr", ":1", "--wait", "30s"}, 30 * time.Second, []string{"--addr", ":1"}},
		{[]string{"-wait=2m", "--addr=:1"}, 2 * time.Minute, []string{"--addr=:1"}},
		{[]string{"--wait", "1s", "--", "--wait", "2s"}, time.Second, []string{"--", "--wait", "2s"}},
	} {
		wait, target, rest, err := healthcheckFlags(tc.args)
		require.NoError(t, err, "%v", tc.args)
		assert.Empty(t, target)
		assert.Equal(t, tc.wait, wait, "%v", tc.args)
		assert.Equal(t, tc.rest, rest, "%v", tc.args)
	}
}

// TestHealthcheckURL: --url checks another host's sandbox (a CI service container),
// appending /healthz to a base URL; a bad URL is a usage error.
func TestHealthcheckURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	serveHealthz(t, l, http.StatusOK)
	for _, u := range []string{"http://" + l.Addr().String(), "http://" + l.Addr().String() + "/", "http://" + l.Addr().String() + "/healthz"} {
		code, msg := healthcheck("--url", u, "--wait", "5s")
		assert.Equal(t, 0, code, "%s: %s", u, msg)
	}
	code, msg := healthcheck("--url=http://127.0.0.1:"+freePort(t), "--wait", "300ms")
	assert.Equal(t, 1, code)
	assert.Contains(t, msg, "not healthy after")
	for _, bad := range []string{"vpay88:8088", "ftp://x", ""} {
		code, msg := healthcheck("--url", bad)
		assert.Equal(t, 2, code, bad)
		assert.Contains(t, msg, "--url", bad)
	}
}
