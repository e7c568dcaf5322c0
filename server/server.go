// Package server is the sandbox's HTTP surface on Echo: the vendor API, the checkout
// page, the admin API and dashboard, health and metrics. New returns an http.Handler
// that also owns the background work (scheduled settlements, callback delivery).
package server

import (
	"context"
	"log/slog"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/callback"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/server/capture"
	"github.com/vpay88/vpay88-sandbox/server/events"
	"github.com/vpay88/vpay88-sandbox/server/faults"
	"github.com/vpay88/vpay88-sandbox/server/journal"
	"github.com/vpay88/vpay88-sandbox/store"
)

// Options wires a Server.
type Options struct {
	Config *config.Config
	Store  *store.Store
	// PublicURL is the base of p_url, e.g. http://127.0.0.1:8088.
	PublicURL string
	Logger    *slog.Logger
	// Seed makes payer names repeatable (0: random).
	Seed int64
	// AdminToken, when set, guards /sandbox/api with a bearer token.
	AdminToken string
	// LoopbackOnly says the sandbox listens on loopback addresses only (main sets it
	// from --addr): then the admin API, the dashboard and /metrics refuse a Host that
	// is neither a loopback name nor the PublicURL's host, which is what a
	// DNS-rebinding page sends. False (a bind on 0.0.0.0, as in Docker) serves any Host.
	LoopbackOnly bool
	// HTTPClient delivers callbacks; nil means a client with the configured timeout.
	HTTPClient *http.Client
	// ForwardTo, when set (--forward-to), is the merchant's own callback URL: every
	// callback captured at /sandbox/capture/{name} is forwarded there (capture.go).
	ForwardTo string
}

// Server is the sandbox.
type Server struct {
	echo       *echo.Echo
	cfg        *config.Config
	store      *store.Store
	log        *slog.Logger
	publicURL  string
	adminToken string
	// loopbackOnly and publicHost drive guardSite's Host check.
	loopbackOnly bool
	publicHost   string

	mu sync.RWMutex // guards merchants and rules; never held across a store write
	// fakerMu guards faker: payer names are drawn inside store transactions.
	fakerMu sync.Mutex
	// adminMu serialises the admin changes that write merchants' state (add, delete,
	// reset), so a reset's opening balances and a new merchant cannot cross.
	adminMu   sync.Mutex
	merchants map[string]*gateway.Merchant
	byName    map[string]*gateway.Merchant // username and aliases
	runtime   []string                     // run-time merchants, oldest first
	// namesVersion changes when a merchant is made or deleted: the dashboard reloads
	// its merchant filters only then.
	namesVersion atomic.Uint64
	rules        []scenarios.Rule
	// ruleIndex is rules arranged so an order tries only those that can match it.
	ruleIndex *scenarios.Index
	faker     *rand.Rand
	// banks are the configured lists per currency (config banks:); a merchant's own
	// banks for a currency replace them for it (merchantBanks).
	banks map[string][]gateway.Bank

	dispatcher *callback.Dispatcher
	wake       chan struct{}
	// dueMu is held while timers run (runTimers, runAdvance); clockJobs runs the
	// clock's moves one after another.
	dueMu     sync.Mutex
	clockJobs *clockJobs
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	metrics   *metrics
	journal   *journal.Journal
	events    *events.Hub
	captures  *capture.Log
	faults    *faults.Queue
	// ruleFaults says a scenario rule may inject a fault or open a window: vendor
	// answers then pass through injectFaults, held back until it is known.
	ruleFaults atomic.Bool
	// stopping is closed at shutdown: hung and dripping answers end.
	stopping chan struct{}
	stopOnce sync.Once
}

// New builds the sandbox and starts its background work; Close stops it.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: o.Config, store: o.Store, log: o.Logger, adminToken: o.AdminToken,
		publicURL: strings.TrimRight(o.PublicURL, "/"), loopbackOnly: o.LoopbackOnly, publicHost: publicHostOf(o.PublicURL),
		merchants: map[string]*gateway.Merchant{}, byName: map[string]*gateway.Merchant{},
		banks: map[string][]gateway.Bank{}, wake: make(chan struct{}, 1),
		metrics: newMetrics(), events: events.New(),
		stopping: make(chan struct{}),
	}
	s.journal = journal.New(journalSize, func() { s.events.Publish("journal") })
	seed := o.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	s.faker = rand.New(rand.NewSource(seed))
	s.captures = capture.New(o.ForwardTo, captureMerchants{s})
	s.faults = faults.New(seed, o.Store, o.Logger, func() { s.events.Publish("faults") })
	if err := s.faults.Load(o.Store.Now()); err != nil {
		return nil, err
	}
	opening := s.loadMerchants(o.Config)
	more, err := s.loadRuntimeMerchants()
	if err != nil {
		return nil, err
	}
	if err := o.Store.EnsureBalances(append(opening, more...)); err != nil {
		return nil, err
	}
	if err := s.applyMerchantEdits(); err != nil {
		return nil, err
	}
	s.setRules(o.Config.Scenarios)
	s.dispatcher = newDispatcher(o, s)
	s.echo = s.routes()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.dispatcher.Start()
	s.clockJobs = newClockJobs(s)
	s.wg.Add(4)
	go s.scheduleLoop()
	go s.housekeeping()
	go func() {
		defer s.wg.Done()
		s.faults.Run(s.ctx)
	}()
	go s.clockJobs.run()
	s.warnNoCallbackURL(o.Config)
	return s, nil
}

// loadMerchants indexes the configured merchants by username and alias and their
// currencies' bank lists, and returns their opening balances.
func (s *Server) loadMerchants(cfg *config.Config) []store.Balance {
	var opening []store.Balance
	for _, m := range cfg.MerchantList() {
		m := m
		s.indexMerchant(&m, false)
		opening = append(opening, openingBalances(&m)...)
	}
	for code := range cfg.Banks {
		s.banks[code] = cfg.BankList(code)
	}
	return opening
}

// newDispatcher builds the callback dispatcher the configuration asks for; its
// attempts feed the metrics and the dashboard's change notices.
func newDispatcher(o Options, s *Server) *callback.Dispatcher {
	hc := o.HTTPClient
	if hc == nil {
		hc = callback.NewHTTPClient(time.Duration(o.Config.Callbacks.Timeout))
	}
	sched := make([]time.Duration, len(o.Config.Callbacks.Schedule))
	for i, d := range o.Config.Callbacks.Schedule {
		sched[i] = time.Duration(d)
	}
	return callback.New(callback.Options{
		Store: o.Store, Client: hc, Concurrency: o.Config.Callbacks.Concurrency,
		PerHost: o.Config.Callbacks.PerHostLimit(), Logger: o.Logger, Schedule: sched,
		OnAttempt: func(a store.Attempt, delivered bool) {
			s.metrics.observeAttempt(a, delivered)
			s.events.Publish("callback")
		},
	})
}

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Close stops the background work; in-flight callback attempts finish first. The store
// is the caller's to close.
func (s *Server) Close() error {
	s.stop()
	s.events.Close()
	s.cancel()
	s.wg.Wait()
	s.dispatcher.Close()
	return nil
}

// CloseStreams ends the dashboard's event streams; main registers it with
// http.Server.RegisterOnShutdown so Shutdown does not wait for open browser tabs.
func (s *Server) CloseStreams() {
	s.stop() // an injected hang must not hold the shutdown for ten minutes
	s.events.Close()
}

// Routes lists the routes served (the OpenAPI test checks the document against them).
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// Dispatcher exposes the callback dispatcher (tests wait on it).
func (s *Server) Dispatcher() *callback.Dispatcher { return s.dispatcher }

func (s *Server) merchant(name string) *gateway.Merchant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byName[name]
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// Recover turns a handler's panic into the generic JSON 500 of handleError (logged),
	// instead of a dropped connection.
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}), s.requestID, s.guardSite, s.limitBody)
	s.registerAPIRoutes(e)
	s.registerCheckoutRoutes(e)
	s.registerAdminRoutes(e)
	s.registerDashboardRoutes(e)
	s.registerCaptureRoutes(e)
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"status": "ok"})
	})
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))
	return e
}

// limitBody caps request bodies so a 20 MB upload is refused without being read.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > maxBodyBytes {
			return errBodyTooLarge
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxBodyBytes)
		return next(c)
	}
}

// setRules installs scenario rules; callers that replace them at run time hold mu.
func (s *Server) setRules(rules []scenarios.Rule) {
	s.rules = rules
	s.ruleIndex = scenarios.NewIndex(rules)
	held := false
	for _, r := range rules {
		// Any fault or window a rule asks for reaches the client through injectFaults:
		// a rule with only a window (or a fault that stops the request) and an empty
		// queue once answered 500.
		if r.Effect.Fault != nil || r.Effect.Maintenance != nil {
			held = true
		}
	}
	s.ruleFaults.Store(held)
}

// stop ends hung and dripping answers (shutdown).
func (s *Server) stop() { s.stopOnce.Do(func() { close(s.stopping) }) }
