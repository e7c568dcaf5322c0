package server

// PruneNow runs one retention pass at once, as the housekeeping loop does every minute.
func (s *Server) PruneNow() { s.prune() }
