package server

import (
	"time"
)

// housekeepingEvery is how often expired tokens are purged and retention runs.
const housekeepingEvery = time.Minute

// pruneBatch is how many orders one retention transaction deletes: small, so a
// retention pass never holds the writer long enough to delay a vendor request.
const pruneBatch = 200

// housekeeping purges expired tokens and applies the retention setting, once at start
// and then every minute.
func (s *Server) housekeeping() {
	defer s.wg.Done()
	t := time.NewTicker(housekeepingEvery)
	defer t.Stop()
	for {
		s.purgeTokens()
		s.prune()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) purgeTokens() {
	if n, err := s.store.PurgeExpiredTokens(); err != nil {
		s.log.Warn("purge tokens", "err", err)
	} else if n > 0 {
		s.log.Debug("purged expired tokens", "count", n)
	}
}

// prune deletes what is older than the retention period, in transactions of
// pruneBatch orders until nothing is left or the server stops.
func (s *Server) prune() {
	if s.cfg.Retention <= 0 {
		return
	}
	cutoff := s.store.Now().Add(-time.Duration(s.cfg.Retention))
	orders, entries := 0, 0
	for s.ctx.Err() == nil {
		res, err := s.store.Prune(cutoff, pruneBatch)
		if err != nil {
			s.log.Warn("retention", "err", err)
			return
		}
		orders += res.Orders
		entries += res.LedgerEntries
		if !res.More {
			break
		}
	}
	if orders > 0 || entries > 0 {
		s.log.Info("retention deleted old orders", "orders", orders, "ledger_entries_folded", entries, "before", cutoff.UTC().Format(time.RFC3339))
		s.events.Publish("order")
	}
}
