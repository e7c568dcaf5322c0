package faults

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Parse reads a fault the admin API was asked to queue (POST /sandbox/api/faults)
// from its fields, made at now; merchantNamed resolves the merchant field (its error
// is returned as it is). Bad input is an *InputError.
func Parse(f url.Values, now time.Time, merchantNamed func(string) (string, error)) (Fault, error) {
	bad := func(msg string) (Fault, error) { return Fault{}, &InputError{msg: msg} }
	out := Fault{Source: "api", CreatedAt: now.UTC(), Count: 1}
	out.Kind = gateway.FaultKind(f.Get("kind"))
	var err error
	if out.Endpoints, err = ParseEndpoints(f["endpoint"]); err != nil {
		return bad(err.Error())
	}
	if out.Merchant, err = merchantNamed(f.Get("merchant")); err != nil {
		return Fault{}, err
	}
	for k := range f {
		if field, ok := strings.CutPrefix(k, "match."); ok && field != "" {
			switch {
			case len(out.Match) >= maxMatches:
				return bad(fmt.Sprintf("at most %d match.<field> patterns are allowed", maxMatches))
			case len(field) > maxMatchFieldBytes:
				return bad(fmt.Sprintf("match.<field>: a field name of %d bytes; at most %d are allowed", len(field), maxMatchFieldBytes))
			case len(f.Get(k)) > maxMatchPatternBytes:
				return bad(fmt.Sprintf("match.%s: a pattern of %d bytes; at most %d are allowed", field, len(f.Get(k)), maxMatchPatternBytes))
			}
			if _, err := path.Match(f.Get(k), ""); err != nil {
				return bad("match." + field + ": bad pattern " + strconv.Quote(f.Get(k)))
			}
			if out.Match == nil {
				out.Match = map[string]string{}
			}
			out.Match[field] = f.Get(k)
		}
	}
	if err := parseFaultNumbers(f.Get, &out); err != nil {
		return bad(err.Error())
	}
	out.Body, out.Then, out.Message, out.Malformed = f.Get("body"), f.Get("then"), f.Get("message"), f.Get("malformed")
	if out.Kind == gateway.FaultMaintenance {
		return bad("a maintenance window is POST /sandbox/api/maintenance")
	}
	if err := out.Normalize(); err != nil {
		return bad(strings.TrimPrefix(err.Error(), gateway.ErrBadFault.Error()+": "))
	}
	return out, nil
}

// parseFaultNumbers reads count, probability, status and duration.
func parseFaultNumbers(get func(string) string, out *Fault) error {
	if v := get("probability"); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		// Written so that NaN fails too: it compares false with everything, was once
		// queued, hit every request and made every save and GET /faults fail.
		if err != nil || !(p > 0 && p <= 1) {
			return fmt.Errorf("probability must be a number above 0 and at most 1, not %q", v)
		}
		out.Probability, out.Count = p, 0 // with a probability, no count unless given
	}
	if v := get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("count must be a whole number (0: no limit), not %q", v)
		}
		out.Count = n
	}
	if v := get("status"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("status must be an HTTP status such as 502, not %q", v)
		}
		out.Status = n
	}
	if v := get("duration"); v != "" {
		var d gateway.Duration
		if err := d.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("duration must be a duration such as 3s or 2m, not %q", v)
		}
		out.Duration = d
	}
	return nil
}

// ParseEndpoints reads endpoint fields: names or paths, repeated or comma-separated;
// none (or "*") is every endpoint.
func ParseEndpoints(vals []string) ([]gateway.Endpoint, error) {
	var out []gateway.Endpoint
	for _, v := range vals {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" || name == "*" {
				continue
			}
			e, ok := gateway.ParseEndpoint(name)
			if !ok {
				return nil, fmt.Errorf("endpoint %q is not a vendor endpoint (%s)", name, gateway.OneOf(gateway.Endpoints()))
			}
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}
