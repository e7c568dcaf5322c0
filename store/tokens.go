package store

import "sync"

// Every vendor request but auth names its token, and reading the token's record (a
// read transaction and a JSON decode) was 4 % of a generate_orders' CPU under load.
// Tokens are written once and only ever deleted, so the store keeps the records it
// read or wrote in memory. Whatever deletes tokens (a purge, a reset, a merchant's
// deletion) clears the cache once its commit is done; the generation keeps a read
// that raced with the deletion from putting a deleted token back.

// maxCachedTokens bounds the cache: a long CI run asks for a token per test.
const maxCachedTokens = 10_000

type tokenCache struct {
	mu   sync.RWMutex
	gen  uint64
	recs map[string]tokenRecord
}

func (c *tokenCache) get(token string) (tokenRecord, bool, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	rec, ok := c.recs[token]
	return rec, ok, c.gen
}

// put keeps rec unless tokens were deleted since gen was read.
func (c *tokenCache) put(token string, rec tokenRecord, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.recs == nil || len(c.recs) >= maxCachedTokens {
		c.recs = map[string]tokenRecord{}
	}
	c.recs[token] = rec
}

// forget drops every cached token; call it after a write that deleted tokens.
func (c *tokenCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.recs = nil
}
