package server

import "github.com/vpay88/vpay88-sandbox/config"

// warnNoCallbackURL says at start, once, that the first merchant has no callback URL:
// its callbacks are then recorded as dropped (gateway.Callbacks, note "merchant has no
// callback_url") and never sent, which a new user would otherwise find only in the
// dashboard after wondering why nothing arrived. Only the first merchant is named:
// it is the one --callback-url sets.
func (s *Server) warnNoCallbackURL(cfg *config.Config) {
	if len(cfg.Merchants) == 0 || cfg.Merchants[0].CallbackURL != "" {
		return
	}
	s.log.Warn("merchant has no callback_url: its callbacks will be recorded as dropped, never sent",
		"merchant", cfg.Merchants[0].Username,
		"set", "--callback-url URL, VPAY88_CALLBACK_URL, or callback_url in the config file")
}
