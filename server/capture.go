package server

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server/capture"
)

// The capture endpoint (POST /sandbox/capture/{name}) and its list; the log, the
// checks and the forward are package capture.

// isCapturePath reports whether a path is the capture endpoint's. guardSite exempts
// it from the Host and cross-site checks: a real gateway reaches the sandbox through
// a tunnel under a foreign Host, and a capture changes nothing but its own log.
func isCapturePath(p string) bool { return strings.HasPrefix(p, "/sandbox/capture/") }

// registerCaptureRoutes mounts the capture endpoint and its list.
func (s *Server) registerCaptureRoutes(e *echo.Echo) {
	e.POST("/sandbox/capture/:name", s.handleCapture)
}

// handleCapture records, checks and (with --forward-to) forwards one callback.
//
// Without --forward-to it answers 200 "success", as a merchant would, whatever the
// checks found: a failing check is information, and a non-2xx answer would only make
// the real gateway retry. With --forward-to it relays the merchant's status and body
// (502 when the merchant cannot be reached in 10 s): the capture then sits
// between the gateway and the merchant, and answering 200 for a merchant that refused
// or is down would tell the gateway the callback was delivered when it was not, so
// its retries would stop and the merchant would lose the callback.
func (s *Server) handleCapture(c echo.Context) error {
	r := c.Request()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return fail(http.StatusBadRequest, "cannot read the body: "+err.Error())
	}
	name, err := url.PathUnescape(c.Param("name"))
	if err != nil {
		name = c.Param("name")
	}
	cp, status, answerType, answer := s.captures.Receive(s.ctx, r, name, body, s.store.Now())
	s.events.Publish("capture")
	s.log.Info("callback captured", "name", cp.Name, "shape", cp.Shape, "ok", cp.OK, "merchant", cp.Merchant, "remote", r.RemoteAddr)

	if cp.Forward == nil {
		return c.String(http.StatusOK, "success")
	}
	if cp.Forward.Error != "" {
		return c.String(http.StatusBadGateway, "forward to the merchant failed: "+cp.Forward.Error)
	}
	if answerType != "" {
		c.Response().Header().Set("Content-Type", answerType)
	}
	c.Response().WriteHeader(status)
	_, err = c.Response().Write(answer)
	return err
}

// handleAdminCaptures lists the captures, newest first: ?name= one capture name,
// offset and limit as the other lists; bytes is what the whole log counts against
// max_bytes (each capture's JSON).
func (s *Server) handleAdminCaptures(c echo.Context) error {
	offset, limit, err := paging(c)
	if err != nil {
		return err
	}
	items, total, size := s.captures.List(c.QueryParam("name"), offset, limit)
	if items == nil {
		items = []*capture.Capture{}
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "captures": items, "forward_to": s.captures.ForwardTo(),
		"bytes": size, "max_bytes": capture.MaxLogBytes})
}

// captureMerchants lists the merchants a captured token is tried with.
type captureMerchants struct{ s *Server }

// TokenCandidates are the merchants a capture's check tries, in its order, at most
// max, and how many merchants there are.
func (cm captureMerchants) TokenCandidates(name string, kind gateway.Kind, orderID string, max int) (out []gateway.Merchant, total int) {
	s := cm.s
	// The store is read before mu is taken: mu is never held across store work.
	var holders []string
	if heads, err := s.store.FindOrderHeads(kind, orderID); err == nil {
		for _, o := range heads[:min(len(heads), max)] {
			holders = append(holders, o.Merchant)
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	try := func(m *gateway.Merchant) bool {
		if m != nil && !seen[m.Username] {
			seen[m.Username] = true
			out = append(out, *m)
		}
		return len(out) < max
	}
	if try(s.byName[name]) {
		for _, h := range holders {
			if !try(s.merchants[h]) {
				break
			}
		}
	}
	for i := 0; i < len(s.cfg.Merchants)+len(s.runtime) && len(out) < max; i++ {
		if i < len(s.cfg.Merchants) {
			try(s.merchants[s.cfg.Merchants[i].Username])
		} else {
			try(s.merchants[s.runtime[i-len(s.cfg.Merchants)]])
		}
	}
	return out, len(s.merchants)
}
