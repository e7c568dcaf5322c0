package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server/faults"
)

// The injection of faults into the vendor API's answers, and the admin API's fault
// routes; the queue, its matching and its saver are package faults.

// injectFaults is the vendor API's fault middleware: it runs inside journalAPI, so
// the journal records what the client got and notes the fault.
func (s *Server) injectFaults(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.faults.Armed() && !s.ruleFaults.Load() {
			return next(c)
		}
		var f *faults.Fault
		if s.faults.Armed() {
			if hit, ok := s.faults.Hit(s.faultRequestOf(c), s.store.Now()); ok {
				f = &hit
			}
		}
		if f != nil && !f.DoesWork() {
			return s.applyFault(c, f.FaultSpec, fmt.Sprintf("fault %d", f.ID))
		}
		// The work is done and its answer held back, so a fault (queued, or set by a
		// matched rule) can alter or lose it.
		bw := &bufferedWriter{ResponseWriter: c.Response().Writer, code: http.StatusOK}
		c.Response().Writer = bw
		err := next(c)
		var ie *injectedError
		if errors.As(err, &ie) {
			c.Response().Writer = bw.ResponseWriter
			return s.applyFault(c, ie.spec, ie.source)
		}
		if err != nil {
			s.handleError(err, c) // a refusal is an answer a fault can lose too
		}
		c.Response().Writer = bw.ResponseWriter
		switch rf := exchangeOf(c).WorkFault; {
		case f != nil:
			return s.alterAnswer(c, bw, f.FaultSpec, fmt.Sprintf("fault %d", f.ID))
		case rf != nil:
			return s.alterAnswer(c, bw, rf.spec, rf.source)
		}
		return bw.flush()
	}
}

// faultRequestOf reads what faults match on: the endpoint, the merchant (by its auth
// token where the request carries one, as username is the customer's in
// generate_orders), and the fields.
func (s *Server) faultRequestOf(c echo.Context) faults.Request {
	e, _ := gateway.ParseEndpoint(c.Path())
	f, err := form(c)
	if err != nil {
		f = nil
	}
	merchant := ""
	if tok := f.Get("auth"); tok != "" {
		merchant, _ = s.store.TokenMerchant(tok)
	}
	if merchant == "" {
		if m := s.merchant(f.Get("username")); m != nil {
			merchant = m.Username
		}
	}
	if merchant != "" {
		// A fault may answer before the handler names the merchant: the journal (and
		// request verification) must still know whose request it hit.
		exchangeOf(c).Merchant = merchant
	}
	return faults.Request{Endpoint: e, Merchant: merchant, Fields: f.Get}
}

// injectedError is a fault a handler met (a matched rule's) and the rule that asked
// for it: returned as an error when it stops the request before its work, for
// applyFault; kept as the exchange's WorkFault when it alters the answer after it.
type injectedError struct {
	spec   gateway.FaultSpec
	source string
}

func (e *injectedError) Error() string { return "injected " + e.spec.String() }

// applyDecisionFault acts on a rule's fault or maintenance window, from inside the
// handler that decided: a fault that stops the request is returned as an error; one
// that alters the answer is left for injectFaults.
func (s *Server) applyDecisionFault(c echo.Context, d gateway.Decision) error {
	if d.Maintenance != nil {
		_, _ = s.openMaintenance(*d.Maintenance, "", "rule "+d.Source) // a rule's window is never refused
		spec := gateway.FaultSpec{Kind: gateway.FaultMaintenance}
		return &injectedError{spec: spec, source: "rule " + d.Source}
	}
	if d.Fault == nil {
		return nil
	}
	if !d.Fault.DoesWork() {
		return &injectedError{spec: *d.Fault, source: "rule " + d.Source}
	}
	exchangeOf(c).WorkFault = &injectedError{spec: *d.Fault, source: "rule " + d.Source}
	return nil
}

// openMaintenance queues a maintenance window from now: the admin API's within
// MaxFaults, a rule's as one window per rule (faults.Queue.Window).
func (s *Server) openMaintenance(m gateway.Maintenance, merchant, source string) (faults.Fault, error) {
	now := s.store.Now()
	w := faults.Fault{FaultSpec: gateway.FaultSpec{Kind: gateway.FaultMaintenance}, Endpoints: m.Endpoints,
		Merchant: merchant, Source: source, CreatedAt: now.UTC(), Until: now.Add(time.Duration(m.Duration)).UTC()}
	f, added, err := w, true, error(nil)
	if source == "api" {
		f, err = s.faults.Add(w)
	} else {
		f, added = s.faults.Window(w) // extended (not added): saved like a hit
	}
	if err != nil {
		return faults.Fault{}, err
	}
	if !added {
		return f, nil
	}
	s.faults.Save()
	s.log.Info("maintenance window opened", "endpoints", m.Endpoints, "until", f.Until, "by", source)
	return f, nil
}

// note records the fault for the journal and the log.
func (s *Server) note(c echo.Context, spec gateway.FaultSpec, source string) {
	exchangeOf(c).FaultNote = "injected: " + spec.String() + " (" + source + ")"
	s.metrics.faultInjected(string(spec.Kind))
}

// applyFault does a fault that stops the request before its work.
func (s *Server) applyFault(c echo.Context, spec gateway.FaultSpec, source string) error {
	s.note(c, spec, source)
	switch spec.Kind {
	case gateway.FaultMessage:
		return gateway.Refuse(spec.Message)
	case gateway.FaultMaintenance:
		e, _ := gateway.ParseEndpoint(c.Path())
		if e == gateway.EndpointWithdrawOrders {
			return gateway.Refuse(gateway.MsgBankMaintenance)
		}
		c.Response().Header().Set("Retry-After", "60")
		return s.errorAnswer(c, gateway.FaultSpec{Kind: gateway.FaultStatus, Status: http.StatusServiceUnavailable, Body: gateway.BodyHTML})
	case gateway.FaultHang:
		s.hang(c, time.Duration(spec.Duration))
		return nil
	case gateway.FaultReset:
		return s.reset(c)
	}
	return s.errorAnswer(c, spec)
}

// errorAnswer writes a status fault's page.
func (s *Server) errorAnswer(c echo.Context, spec gateway.FaultSpec) error {
	ct, body := gateway.ErrorPage(spec.Status, spec.Body)
	exchangeOf(c).Message = "injected " + strconv.Itoa(spec.Status)
	if spec.Status == http.StatusTooManyRequests || spec.Status == http.StatusServiceUnavailable {
		if c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "1")
		}
	}
	if ct == "" {
		return c.NoContent(spec.Status)
	}
	return c.Blob(spec.Status, ct, body)
}

// hang holds the request without answering until the client gives up, d passes or
// the sandbox stops. The body is read to its end first: only then does net/http
// watch the connection and cancel the request's context when the client closes it,
// so a client's timeout frees the handler at once.
func (s *Server) hang(c echo.Context, d time.Duration) {
	_, _ = io.Copy(io.Discard, c.Request().Body)
	exchangeOf(c).Message = "injected hang"
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.Request().Context().Done():
		exchangeOf(c).Message = "injected hang: the client gave up"
	case <-s.stopping:
	case <-t.C:
	}
	// Whatever ended it, the connection is closed without an answer.
	_ = s.reset(c)
}

// reset closes the connection without an answer: a TCP RST (SO_LINGER 0), as a
// crashed upstream or a firewall gives.
func (s *Server) reset(c echo.Context) error {
	if x := exchangeOf(c); x.Message == "" {
		x.Message = "injected reset"
	}
	conn, _, err := http.NewResponseController(c.Response().Writer).Hijack()
	if err != nil {
		return err
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	c.Response().Committed = true // nothing more may be written
	return conn.Close()
}

// alterAnswer sends the held-back answer of a request that did its work as the
// fault says: dripped, broken, or lost.
func (s *Server) alterAnswer(c echo.Context, bw *bufferedWriter, spec gateway.FaultSpec, source string) error {
	s.note(c, spec, source)
	switch spec.Kind {
	case gateway.FaultSlow:
		return s.drip(c, bw, time.Duration(spec.Duration))
	case gateway.FaultMalformed:
		bw.body = *bytes.NewBuffer(gateway.Malform(bw.body.Bytes(), spec.Malformed))
		return bw.flush()
	case gateway.FaultLostAnswer:
		if spec.Then == gateway.ThenReset {
			return s.reset(c)
		}
		resetResponse(c)
		return s.errorAnswer(c, spec)
	}
	return bw.flush()
}

// dripSteps is how many pieces a slow answer is sent in.
const dripSteps = 20

// drip sends the held-back answer over d: headers at once (with the length, so the
// client knows more is coming), then the body in pieces.
func (s *Server) drip(c echo.Context, bw *bufferedWriter, d time.Duration) error {
	body := bw.body.Bytes()
	w := bw.ResponseWriter
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(bw.code)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	step := max(1, (len(body)+dripSteps-1)/dripSteps)
	tick := time.NewTicker(max(time.Millisecond, d/time.Duration(dripSteps)))
	defer tick.Stop()
	for len(body) > 0 {
		select {
		case <-tick.C:
		case <-c.Request().Context().Done():
			return nil
		case <-s.stopping:
			return nil
		}
		n := min(step, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return nil
		}
		_ = rc.Flush()
		body = body[n:]
	}
	return nil
}

// resetResponse forgets the held-back answer that Echo counts as written, so another
// can be written in its place.
func resetResponse(c echo.Context) {
	r := c.Response()
	id := r.Header().Get(echo.HeaderXRequestID)
	clear(r.Header())
	if id != "" {
		r.Header().Set(echo.HeaderXRequestID, id)
	}
	r.Committed, r.Size, r.Status = false, 0, http.StatusOK
}

// bufferedWriter holds an answer back until the fault middleware decides what the
// client gets.
type bufferedWriter struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (b *bufferedWriter) WriteHeader(code int) { b.code = code }

func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// Unwrap lets http.ResponseController reach the connection (reset hijacks it).
func (b *bufferedWriter) Unwrap() http.ResponseWriter { return b.ResponseWriter }

// flush sends the held answer unchanged.
func (b *bufferedWriter) flush() error {
	b.ResponseWriter.WriteHeader(b.code)
	_, err := b.ResponseWriter.Write(b.body.Bytes())
	return err
}

// parseFault reads POST /sandbox/api/faults.
func (s *Server) parseFault(c echo.Context) (faults.Fault, error) {
	f, err := adminFields(c)
	if err != nil {
		return faults.Fault{}, err
	}
	return faults.Parse(f, s.store.Now(), s.merchantNamed)
}

func (s *Server) handleAddFault(c echo.Context) error {
	f, err := s.parseFault(c)
	if err != nil {
		return err
	}
	stored, err := s.faults.Add(f)
	if err != nil {
		return err
	}
	s.faults.Save()
	s.log.Info("fault queued", "id", stored.ID, "fault", stored.String(), "endpoints", stored.Endpoints, "count", stored.Count, "probability", stored.Probability)
	return c.JSON(http.StatusCreated, stored)
}

func (s *Server) handleListFaults(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"faults": s.faults.List(s.store.Now())})
}

func (s *Server) handleClearFaults(c echo.Context) error {
	var id int64
	if p := c.Param("id"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return fail(http.StatusBadRequest, "fault id must be a positive number")
		}
		id = n
	}
	if !s.faults.Remove(id, s.store.Now()) && id != 0 {
		return fail(http.StatusNotFound, "no fault "+strconv.FormatInt(id, 10))
	}
	s.faults.Save()
	return c.JSON(http.StatusOK, map[string]any{"faults": s.faults.List(s.store.Now())})
}

// handleAddMaintenance is POST /sandbox/api/maintenance: endpoint (default
// withdraw_orders), duration or until, optional merchant.
func (s *Server) handleAddMaintenance(c echo.Context) error {
	f, err := adminFields(c)
	if err != nil {
		return err
	}
	var m gateway.Maintenance
	if m.Endpoints, err = faults.ParseEndpoints(f["endpoint"]); err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	switch d, u := f.Get("duration"), f.Get("until"); {
	case d != "" && u != "":
		return fail(http.StatusBadRequest, "give duration or until, not both")
	case d != "":
		v, err := parseDuration(d)
		if err != nil {
			return fail(http.StatusBadRequest, "duration must be a duration such as 10m, not "+strconv.Quote(d))
		}
		m.Duration = gateway.Duration(v)
	case u != "":
		t, err := time.Parse(time.RFC3339Nano, u)
		if err != nil {
			return fail(http.StatusBadRequest, "until must be an RFC 3339 time, not "+strconv.Quote(u))
		}
		m.Duration = gateway.Duration(t.Sub(s.store.Now()))
	}
	if err := m.Normalize(); err != nil {
		return fail(http.StatusBadRequest, strings.TrimPrefix(err.Error(), gateway.ErrBadFault.Error()+": "))
	}
	merchant, err := s.merchantNamed(f.Get("merchant"))
	if err != nil {
		return err
	}
	w, err := s.openMaintenance(m, merchant, "api")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, w)
}
