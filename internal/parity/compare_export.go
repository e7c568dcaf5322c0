package parity

// Compare compares a target's answer with a sandbox's as a parity step does: HTTP
// status, media type, then the JSON (tokens, p_url and datetimes by shape, lists by
// shape). It returns the differences (Profile left empty: the attribution needs a
// scripted step) and the notes that do not count as differences. The proxy
// (`vpay88-sandbox proxy`) compares free-form traffic with it.
func Compare(target, sandbox *Observation) (diffs []Diff, notes []string) {
	c := compareObservations(target, sandbox)
	return c.diffs, c.notes
}
