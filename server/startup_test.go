package server_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

// logBuffer is a log destination the server's goroutines may write to at once.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// openLogged is openEnv with the server's log captured as text.
func openLogged(t *testing.T, changes ...func(*config.Config)) (*testEnv, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	e := openEnv(t, inproc.Options{Changes: changes, Server: func(o *server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}})
	return e, logs
}

// TestWarnsOnceWithoutCallbackURL: a first merchant without a callback URL is named in
// one warning at start, saying how to set one; settling orders (whose callbacks are
// then dropped) does not repeat it, and a merchant with a URL gets no warning.
func TestWarnsOnceWithoutCallbackURL(t *testing.T) {
	t.Run("NoURL", func(t *testing.T) {
		e, logs := openLogged(t)
		e.Deposit(t, "NOURL-1", map[string]string{"email": "success@example.com"})
		e.Deposit(t, "NOURL-2", map[string]string{"email": "success@example.com"})
		v := e.adminOrder(t, gateway.KindDeposit, "NOURL-2")
		require.Len(t, v.Callbacks, 1)
		assert.Equal(t, store.DeliveryDropped, v.Callbacks[0].State, "what the warning says happens")

		var warns []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "level=WARN") {
				warns = append(warns, l)
			}
		}
		require.Len(t, warns, 1, "%s", logs)
		w := warns[0]
		assert.Contains(t, w, `merchant=`+testMerchant)
		assert.Contains(t, w, "recorded as dropped")
		for _, how := range []string{"--callback-url", "VPAY88_CALLBACK_URL", "callback_url in the config file"} {
			assert.Contains(t, w, how)
		}
	})
	t.Run("WithURL", func(t *testing.T) {
		_, logs := openLogged(t, func(c *config.Config) { c.Merchants[0].CallbackURL = "http://127.0.0.1:1/cb" })
		assert.NotContains(t, logs.String(), "callback_url")
	})
}
