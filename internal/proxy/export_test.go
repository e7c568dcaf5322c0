package proxy

import "github.com/vpay88/vpay88-sandbox/internal/parity"

// ShadowSandboxes are the proxy's shadow sandboxes, the main one first, for tests
// that look into their stores. Call it after Sync: the shadow goroutine owns them.
func ShadowSandboxes(p *Proxy) []*parity.Sandbox {
	var out []*parity.Sandbox
	for _, sd := range []*side{p.sh.main, p.sh.alt} {
		if sd != nil {
			out = append(out, sd.sb)
		}
	}
	return out
}
