// Package cut shortens the strings the sandbox keeps or shows from what a caller sent
// (the journal's fields, a capture's findings, an error's echo of an id), so a 1 MB
// value costs a few KiB; a cut value says how much it left out, so it never passes
// for the value that was sent.
package cut

import (
	"strconv"
	"unicode/utf8"
)

// To shortens s to at most max bytes (at a rune boundary) and says how much it left
// out.
func To(s string, max int) string { return Kept(s, len(s), max) }

// Kept is To for a value of which only the first bytes, s, were kept: total is the
// length of the whole value.
func Kept(s string, total, max int) string {
	if total <= max {
		return s
	}
	keep := min(max, len(s))
	for keep > 0 && keep < len(s) && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + "…[cut " + strconv.Itoa(total-keep) + " bytes]"
}
