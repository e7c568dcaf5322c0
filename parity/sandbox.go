package parity

import (
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/inproc"
)

// Sandbox is an in-process sandbox for one parity run: inproc's whole sandbox (the
// embedded default configuration with the fast callback schedule, a bbolt file in a
// temporary folder, a listener on 127.0.0.1, a Recorder taking the callbacks), with
// the credentials the conversation sends.
type Sandbox struct {
	*inproc.Sandbox
	// Username, APIKey and SecretKey are the merchant's credentials.
	Username, APIKey, SecretKey string
}

// StartSandbox starts an in-process sandbox whose first merchant has the given
// credentials (empty keeps the default: vpay88-test, EPSOWM0eewwrwer0OfUo,
// vpay88-test-secret), so the conversation sends the same values to the target and
// to the sandbox. Payouts complete after the default withdrawal_delay, as the sandbox
// runs by default. More changes (a profile) apply after the credentials.
func StartSandbox(username, apiKey, secretKey string, changes ...func(*config.Config)) (*Sandbox, error) {
	sb, err := inproc.Start(inproc.Options{Recorder: true, Seed: 1, Changes: append([]func(*config.Config){func(cfg *config.Config) {
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
	}}, changes...)})
	if err != nil {
		return nil, err
	}
	m := sb.Config.Merchants[0]
	return &Sandbox{Sandbox: sb, Username: m.Username, APIKey: m.APIKey, SecretKey: m.SecretKey}, nil
}

// Close stops the sandbox and removes its temporary folder.
func (sb *Sandbox) Close() error {
	sb.Sandbox.Close()
	return nil
}
