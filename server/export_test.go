package server

import "github.com/vpay88/vpay88-sandbox/gateway"

// PruneNow runs one retention pass at once, as the housekeeping loop does every minute.
func (s *Server) PruneNow() { s.prune() }

// RunDueNow does what o's timer came due for, as the scheduler does when it fires.
func (s *Server) RunDueNow(o *gateway.Order) { s.runDue(o) }

// ClockJobStates are the states a clock job passes through, for the OpenAPI check.
var ClockJobStates = []string{jobQueued, jobRunning, jobDone, jobStopped}
