package parity

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteTable writes the report for people: one line per step with ✓ or ✗, each
// difference and note indented under its step, and a summary line.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "parity: target %s\n        sandbox %s\n        currency %s, amount %s", r.Target, r.Sandbox, r.Currency, r.Amount)
	if r.AllowPayouts {
		b.WriteString(", payouts allowed")
	}
	if r.Profile != "" {
		fmt.Fprintf(&b, ", sandbox profile %s", r.Profile)
	}
	if r.Values {
		b.WriteString(", lists compared by value")
	}
	b.WriteString("\n\n")
	width := len("STEP")
	for _, s := range r.Steps {
		width = max(width, utf8.RuneCountInString(s.Name))
	}
	fmt.Fprintf(&b, "   %-*s  %-22s  %s\n", width, "STEP", "ENDPOINT", "RESULT")
	seen := map[string]bool{}
	for _, s := range r.Steps {
		mark, result := "✓", "same"
		switch {
		case s.Skipped != "":
			mark, result = "-", "skipped: "+s.Skipped
		case len(s.Diffs) == 1:
			mark, result = "✗", "1 difference"
		case len(s.Diffs) > 1:
			mark, result = "✗", fmt.Sprintf("%d differences", len(s.Diffs))
		}
		fmt.Fprintf(&b, "%s  %-*s  %-22s  %s\n", mark, width, s.Name, s.Endpoint, result)
		for _, d := range s.Diffs {
			fmt.Fprintf(&b, "       %s%s%s\n", d, profileNote(d.Profile), switchNote(d.Switch))
		}
		// A note (the target's charset, its trailing commas) tends to repeat on
		// every step; the table shows it once, the JSON on every step.
		for _, n := range s.Notes {
			if !seen[n] {
				seen[n] = true
				fmt.Fprintf(&b, "       note: %s\n", n)
			}
		}
	}
	fmt.Fprintf(&b, "\n%d steps: %d same, %d different, %d skipped\n", len(r.Steps), r.Same, r.Different, r.Skipped)
	_, err := io.WriteString(w, b.String())
	return err
}

// switchNote is the table's word on the dialect switch that explains a difference.
func switchNote(sw string) string {
	if sw == "" {
		return ""
	}
	return " (dialect: set " + sw + ")"
}

// profileNote is the table's word on which profile answers as the target does.
func profileNote(p string) string {
	switch p {
	case MatchDocument, MatchObserved:
		return " (matches the " + p + " profile)"
	case MatchBoth:
		return " (matches both profiles)"
	case MatchNeither:
		return " (matches neither profile)"
	}
	return ""
}

// WriteJSON writes the report for machines: the Report struct as indented JSON
// (target, sandbox, currency, amount, the sandbox's profile, whether values were
// compared, steps with request, both answers, diffs with the profile that matches the
// target, notes, and the counts).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
