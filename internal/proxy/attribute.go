package proxy

import (
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// Profile attribution (Diff.Profile, as parity's report has it): parity's own rules
// (parity/profile.go) read its scripted steps, which free-form traffic does not have,
// so the proxy asks instead. A second shadow runs the other profile and hears every
// exchange too, following the target as the main one does; a difference of the main
// shadow matches the other profile when the second shadow has no difference at the
// same place, and neither profile otherwise. The main shadow's own profile never
// matches there: it is the one that differs. Without the second shadow's answer (it
// did not start, failed, or holds the order apart) the attribution is left empty.

// attribute sets the Profile of main's differences from alt's verdict on the same
// exchange.
func attribute(diffs []parity.Diff, alt *verdict, altProfile gateway.Profile) {
	if alt == nil || alt.err != nil {
		return
	}
	differs := map[string]bool{}
	for _, d := range alt.diffs {
		differs[spot(d)] = true
	}
	match := parity.MatchObserved
	if altProfile == gateway.ProfileDocument {
		match = parity.MatchDocument
	}
	for i := range diffs {
		diffs[i].Profile = parity.MatchNeither
		if !differs[spot(diffs[i])] {
			diffs[i].Profile = match
		}
	}
}

// spot is where a difference is: its JSON path, or for the answer as a whole (status,
// content type, body) its kind, since those are separate places.
func spot(d parity.Diff) string {
	if d.Path == "" {
		return "(answer) " + d.Kind
	}
	return d.Path
}
