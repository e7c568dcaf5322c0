package server

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/server/internal/cut"
)

// guardSite keeps web pages on other sites away from the sandbox's control surfaces:
// the admin API (/sandbox/api), the dashboard (/sandbox/, its files and its event
// stream) and /metrics. Without --admin-token the admin API obeys any request, and a
// browser sends a form POST to 127.0.0.1 from any page it has open; the page cannot
// read the answer, but the POST settles orders or wipes state all the same.
//
//   - An unsafe method (POST, PUT, DELETE, PATCH) on the admin API or the dashboard is
//     refused when its Origin is present and is not the sandbox's own origin (the
//     request's scheme and Host, or the --public-url's), or when the browser says
//     Sec-Fetch-Site cross-site or same-site (another port of localhost is same-site,
//     and is not the dashboard). Requests without either header (curl, scripts, the
//     Go client) pass: a browser always sends Origin on a cross-origin POST.
//   - While the sandbox listens on loopback only, a request to those surfaces whose
//     Host is neither a loopback name nor the --public-url's host is refused: that is
//     a DNS-rebinding page that resolved its own name to 127.0.0.1 and could otherwise
//     read the answers too.
//
// The vendor API and the checkout page are left out: their callers hold the
// credentials or the page key they use, and merchant integrations often reach a local
// sandbox through a hosts-file alias of the production name (README, Security).
func (s *Server) guardSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		// The capture endpoint (capture.go) is exempt from both checks: a real gateway
		// posts its callbacks server to server (no Origin) through a tunnel, under a
		// Host that is not loopback, and a capture changes no state but its own log.
		if isCapturePath(r.URL.Path) && isCapturePath(c.Path()) {
			return next(c)
		}
		control := isControlPath(r.URL.Path) || isControlPath(c.Path())
		if !control && r.URL.Path != "/metrics" {
			return next(c)
		}
		if s.loopbackOnly && !s.allowedHost(r.Host) {
			return fail(http.StatusForbidden, "host "+quoteCut(r.Host)+" is not served: the sandbox listens on loopback only; "+
				"use localhost or 127.0.0.1, or set --public-url to the address you open it with")
		}
		if control && unsafeMethod(r.Method) {
			if why := s.crossSite(c); why != "" {
				return fail(http.StatusForbidden, "cross-site request refused: "+why)
			}
		}
		return next(c)
	}
}

// isControlPath reports whether a path is the dashboard's or the admin API's.
func isControlPath(p string) bool { return p == "/sandbox" || strings.HasPrefix(p, "/sandbox/") }

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// crossSite says why a state-changing request comes from another site, or "".
func (s *Server) crossSite(c echo.Context) string {
	r := c.Request()
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		return "Sec-Fetch-Site is " + site
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	if sameOrigin(origin, c.Scheme()+"://"+r.Host) || (s.publicURL != "" && sameOrigin(origin, s.publicURL)) {
		return ""
	}
	return "Origin " + quoteCut(origin) + " is not this sandbox"
}

// sameOrigin compares scheme, host and port of two URLs, a missing port being the
// scheme's default.
func sameOrigin(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil || ua.Host == "" {
		return false // "null" (a sandboxed frame, a file: page) is no origin
	}
	ub, err := url.Parse(b)
	if err != nil || ub.Host == "" {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Hostname(), ub.Hostname()) &&
		originPort(ua) == originPort(ub)
}

func originPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// allowedHost reports whether a Host header names the sandbox on loopback: localhost,
// a name under .localhost (RFC 6761 keeps them on loopback), a loopback IP, or the
// host of the --public-url. An empty Host (HTTP/1.0) passes: browsers always send one.
func (s *Server) allowedHost(host string) bool {
	if host == "" {
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	return s.publicHost != "" && h == s.publicHost
}

// publicHostOf is the lower-case host name of the --public-url, "" without one.
func publicHostOf(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}

// quoteCut quotes a header value for an error message, cut to a readable length.
func quoteCut(v string) string {
	return `"` + cut.To(v, 200) + `"`
}
