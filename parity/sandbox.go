package parity

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

// Sandbox is an in-process sandbox for one parity run: the embedded default
// configuration, a bbolt file in a temporary folder, a listener on 127.0.0.1:0.
type Sandbox struct {
	// URL is its base URL.
	URL string
	// Username, APIKey and SecretKey are its first merchant's credentials.
	Username, APIKey, SecretKey string

	dir   string
	store *store.Store
	srv   *server.Server
	http  *http.Server
}

// StartSandbox starts an in-process sandbox whose first merchant has the given
// credentials (empty keeps the default: vpay88-test, EPSOWM0eewwrwer0OfUo,
// vpay88-test-secret), so the conversation sends the same values to the target and
// to the sandbox.
func StartSandbox(username, apiKey, secretKey string, logger *slog.Logger) (*Sandbox, error) {
	cfg := config.Default()
	cfg.Callbacks.Schedule = config.FastSchedule
	m := &cfg.Merchants[0]
	if username != "" && username != m.Username {
		m.Username = username
		// The default aliases name the default merchant; a merchant with another
		// name keeps none, so an alias cannot shadow the name.
		m.Aliases = nil
	}
	if apiKey != "" {
		m.APIKey = apiKey
	}
	if secretKey != "" {
		m.SecretKey = secretKey
	}
	dir, err := os.MkdirTemp("", "vpay88-parity-")
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{Username: m.Username, APIKey: m.APIKey, SecretKey: m.SecretKey, dir: dir}
	st, err := store.Open(filepath.Join(dir, "parity.db"))
	if err != nil {
		sb.Close()
		return nil, err
	}
	sb.store = st
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sb.Close()
		return nil, err
	}
	srv, err := server.New(server.Options{Config: cfg, Store: st, Logger: logger, Seed: 1})
	if err != nil {
		ln.Close()
		sb.Close()
		return nil, err
	}
	sb.srv = srv
	sb.http = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := sb.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && logger != nil {
			logger.Error("parity sandbox", "err", err)
		}
	}()
	sb.URL = "http://" + ln.Addr().String()
	return sb, nil
}

// Close stops the sandbox and removes its temporary folder.
func (sb *Sandbox) Close() error {
	var errs []error
	if sb.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, sb.http.Shutdown(ctx))
		cancel()
		sb.http = nil
	}
	if sb.srv != nil {
		errs = append(errs, sb.srv.Close())
		sb.srv = nil
	}
	if sb.store != nil {
		errs = append(errs, sb.store.Close())
		sb.store = nil
	}
	if sb.dir != "" {
		errs = append(errs, os.RemoveAll(sb.dir))
		sb.dir = ""
	}
	return errors.Join(errs...)
}
