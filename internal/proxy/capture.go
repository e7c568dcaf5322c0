package proxy

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// The capture route: a team points the real test environment's callback URL at the
// proxy, as it would at a sandbox, and the proxy hands POST /sandbox/capture/{name}
// and GET /sandbox/api/captures to the shadow (server/capture.go), never to the
// target. The shadow checks each callback against the sandbox's callback shape and
// verifies its token with --secret, and forwards it to --forward-to when set.
//
// Before the shadow has started (no credentials yet) the route answers 503 with a
// JSON error: the shadow cannot start without the merchant's username and api_key,
// and a gateway retries a callback that was not answered 2xx, so nothing is lost
// that a later retry will not bring. Give --username and --api-key to have the
// shadow, and the route, up from the start.

// isCaptureRoute reports whether the proxy hands a path to the shadow.
func isCaptureRoute(path string) bool {
	return strings.HasPrefix(path, "/sandbox/capture/") || path == "/sandbox/api/captures"
}

// captureRetryAfter is the Retry-After of the 503, in seconds: about the time the
// shadow needs once the integration's first auth has passed.
const captureRetryAfter = "5"

func (p *Proxy) serveCapture(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	h, down := p.capture, p.shadowDown
	p.mu.Unlock()
	if h == nil {
		w.Header().Set("Retry-After", captureRetryAfter)
		writeJSONError(w, http.StatusServiceUnavailable, down)
		return
	}
	h.ServeHTTP(w, r)
}

// newCaptureProxy reaches the shadow at base. The callback keeps the Host the gateway
// used and gains X-Forwarded-For, so the capture records who sent it (the shadow
// itself only sees the proxy).
func newCaptureProxy(base string, log *slog.Logger) http.Handler {
	u, _ := url.Parse(base)
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeJSONError(w, http.StatusBadGateway, "the shadow sandbox did not answer: "+err.Error())
		},
	}
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
