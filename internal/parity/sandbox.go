package parity

import (
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/internal/inproc"
	"github.com/vpay88/vpay88-sandbox/server"
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

// SandboxOptions are StartSandboxWith's settings.
type SandboxOptions struct {
	// Username, APIKey and SecretKey are the first merchant's credentials; an empty
	// one keeps the default's (vpay88-test, EPSOWM0eewwrwer0OfUo, vpay88-test-secret).
	Username, APIKey, SecretKey string
	// Changes change the configuration after the credentials (a profile).
	Changes []func(*config.Config)
	// Server, when set, changes the server's options before it starts: the proxy's
	// shadow takes --forward-to there, for the callbacks captured through it.
	Server func(*server.Options)
}

// StartSandbox starts an in-process sandbox whose first merchant has the given
// credentials (empty keeps the default: vpay88-test, EPSOWM0eewwrwer0OfUo,
// vpay88-test-secret), so the conversation sends the same values to the target and
// to the sandbox. Payouts complete after the default withdrawal_delay, as the sandbox
// runs by default. More changes (a profile) apply after the credentials.
func StartSandbox(username, apiKey, secretKey string, changes ...func(*config.Config)) (*Sandbox, error) {
	return StartSandboxWith(SandboxOptions{Username: username, APIKey: apiKey, SecretKey: secretKey, Changes: changes})
}

// StartSandboxWith is StartSandbox with the server's options open to change too.
func StartSandboxWith(o SandboxOptions) (*Sandbox, error) {
	sb, err := inproc.Start(inproc.Options{Recorder: true, Seed: 1, Server: o.Server, Changes: append([]func(*config.Config){func(cfg *config.Config) {
		m := &cfg.Merchants[0]
		if o.Username != "" && o.Username != m.Username {
			m.Username = o.Username
			// The default aliases name the default merchant; a merchant with another
			// name keeps none, so an alias cannot shadow the name.
			m.Aliases = nil
		}
		if o.APIKey != "" {
			m.APIKey = o.APIKey
		}
		if o.SecretKey != "" {
			m.SecretKey = o.SecretKey
		}
	}}, o.Changes...)})
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
