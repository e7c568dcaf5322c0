package parity

import (
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

// Sandbox is an in-process sandbox for one parity run: sandboxtest's whole sandbox
// (the embedded default configuration, a bbolt file in a temporary folder, a listener
// on 127.0.0.1), with the credentials the conversation sends.
type Sandbox struct {
	*sandboxtest.Sandbox
}

// StartSandbox starts an in-process sandbox whose first merchant has the given
// credentials (empty keeps the default: vpay88-test, EPSOWM0eewwrwer0OfUo,
// vpay88-test-secret), so the conversation sends the same values to the target and
// to the sandbox.
func StartSandbox(username, apiKey, secretKey string) (*Sandbox, error) {
	sb, err := sandboxtest.Start(sandboxtest.WithConfig(func(cfg *config.Config) {
		// Compare the sandbox as it runs by default, not sandboxtest's quick payouts.
		cfg.WithdrawalDelay = config.Default().WithdrawalDelay
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
	}))
	if err != nil {
		return nil, err
	}
	return &Sandbox{sb}, nil
}

// Close stops the sandbox and removes its temporary folder.
func (sb *Sandbox) Close() error {
	sb.Sandbox.Close()
	return nil
}
