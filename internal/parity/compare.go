package parity

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vpay88/vpay88-sandbox/client"
)

// Difference kinds, as the report and its JSON name them.
const (
	KindHTTPStatus     = "http_status"
	KindContentType    = "content_type"
	KindJSON           = "json"                // one side's body is JSON, the other's is not
	KindBody           = "body"                // neither is JSON and the texts differ
	KindKeyOnlyTarget  = "key_only_in_target"  // the sandbox lacks a key the target answers
	KindKeyOnlySandbox = "key_only_in_sandbox" // the sandbox answers a key the target lacks
	KindType           = "type"                // string vs number, object vs array…
	KindNumberFormat   = "number_format"       // 100.0000 vs 100 vs 1e2
	KindValue          = "value"               // message text, status, amount…
	KindShape          = "shape"               // tokens, p_url, datetimes: same pattern expected
	// With Options.Values only: list elements (banks by currency and id, rates by
	// currency) that one side lists and the other does not.
	KindElementsOnlyTarget  = "elements_only_in_target"
	KindElementsOnlySandbox = "elements_only_in_sandbox"
)

// Diff is one difference between the target's answer and the sandbox's.
type Diff struct {
	// Path is the JSON path ("message", "data[].id"); "" for the HTTP status, the
	// content type and the body as a whole.
	Path    string `json:"path"`
	Kind    string `json:"kind"`
	Target  string `json:"target"`
	Sandbox string `json:"sandbox"`
	// Profile says which of the sandbox's profiles answers as the target does where
	// the difference is: "document", "observed", "both" or "neither" (profile.go).
	Profile string `json:"profile"`
	// Switch, when a dialect switch explains the difference, is the value the
	// target matches, as config: "withdraw_order_id: off" (switch.go).
	Switch string `json:"switch,omitempty"`

	// currency is the bank list group the difference is in (value comparison of a
	// bank list), for the profile attribution.
	currency string
}

// String is the report line: "message: value: target \"…\", sandbox \"…\"".
func (d Diff) String() string {
	where := d.Path
	if where == "" {
		where = "(answer)"
	}
	return fmt.Sprintf("%s: %s: target %s, sandbox %s", where, strings.ReplaceAll(d.Kind, "_", " "), d.Target, d.Sandbox)
}

// rule says how a scalar outside arrays is compared. Values that vary by nature
// (tokens, URLs, datetimes) are compared by shape; all others exactly.
type rule int

const (
	ruleExact    rule = iota
	ruleToken         // character class and length: "[A-Za-z0-9]{20}"
	ruleURL           // path and query pattern; scheme and host ignored
	ruleDateTime      // digits masked: "9999-99-99 99:99:99"
)

// rules is keyed by the JSON key. In arrays (bank lists, rates) values vary by nature,
// so array elements are compared by key set, type and number format only, unless the
// run compares values (Options.Values, arrayValues).
var rules = map[string]rule{
	"auth":           ruleToken,
	"token":          ruleToken,
	"order_id":       ruleToken, // auth's gateway-made order id (docs/fidelity.md, observed)
	"p_url":          ruleURL,
	"order_datetime": ruleDateTime,
}

// comparison gathers the differences and notes of one step.
type comparison struct {
	// values: list elements are compared by value too (arrayValues).
	values bool
	diffs  []Diff
	notes  []string
}

func (c *comparison) diff(path, kind, target, sandbox string) {
	c.diffs = append(c.diffs, Diff{Path: path, Kind: kind, Target: target, Sandbox: sandbox})
}

// compareObservations compares two answers: HTTP status, media type, then the JSON,
// lists by shape only.
func compareObservations(t, s *Observation) comparison { return compareAnswers(t, s, false) }

// compareAnswers is compareObservations, with list elements also compared by value
// when values is set.
func compareAnswers(t, s *Observation, values bool) comparison {
	c := comparison{values: values}
	if t.Status != s.Status {
		c.diff("", KindHTTPStatus, strconv.Itoa(t.Status), strconv.Itoa(s.Status))
	}
	tm, tp := mediaType(t.ContentType)
	sm, sp := mediaType(s.ContentType)
	switch {
	case tm != sm:
		c.diff("", KindContentType, quoteOrAbsent(t.ContentType), quoteOrAbsent(s.ContentType))
	case tp != sp:
		// A charset parameter changes nothing for a JSON reader: noted, not failed.
		c.notes = append(c.notes, fmt.Sprintf("content type parameters: target %q, sandbox %q", t.ContentType, s.ContentType))
	}
	tv, terr := client.DecodeNumbers([]byte(t.Body))
	sv, serr := client.DecodeNumbers([]byte(s.Body))
	if _, changed := client.Tolerate([]byte(t.Body)); changed && terr == nil {
		c.notes = append(c.notes, "target JSON has trailing commas or a byte-order mark (the client tolerates them)")
	}
	if _, changed := client.Tolerate([]byte(s.Body)); changed && serr == nil {
		c.notes = append(c.notes, "sandbox JSON has trailing commas or a byte-order mark")
	}
	switch {
	case terr != nil && serr != nil:
		if strings.TrimSpace(t.Body) != strings.TrimSpace(s.Body) {
			c.diff("", KindBody, abbreviate(t.Body), abbreviate(s.Body))
		}
	case terr != nil:
		c.diff("", KindJSON, "not JSON: "+abbreviate(t.Body), "JSON")
	case serr != nil:
		c.diff("", KindJSON, "JSON", "not JSON: "+abbreviate(s.Body))
	default:
		c.value("", "", tv, sv)
	}
	return c
}

func mediaType(ct string) (string, string) {
	if ct == "" {
		return "", ""
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct)), ""
	}
	keys := make([]string, 0, len(params))
	for k, v := range params {
		keys = append(keys, k+"="+strings.ToLower(v))
	}
	sort.Strings(keys)
	return mt, strings.Join(keys, ";")
}

func quoteOrAbsent(s string) string {
	if s == "" {
		return "(absent)"
	}
	return strconv.Quote(s)
}

// abbreviate keeps report lines readable when a body is an HTML page.
func abbreviate(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 80 {
		r := []rune(s)
		s = string(r[:77]) + "..."
	}
	return strconv.Quote(s)
}

// value compares two decoded JSON values at path; key is the last object key.
func (c *comparison) value(path, key string, t, s any) {
	tk, sk := typeOf(t), typeOf(s)
	if tk != sk {
		c.diff(path, KindType, describe(t), describe(s))
		return
	}
	switch tv := t.(type) {
	case map[string]any:
		sv := s.(map[string]any)
		for _, k := range sortedKeys(tv) {
			p := join(path, k)
			if _, ok := sv[k]; !ok {
				c.diff(p, KindKeyOnlyTarget, describe(tv[k]), "(absent)")
				continue
			}
			c.value(p, k, tv[k], sv[k])
		}
		for _, k := range sortedKeys(sv) {
			if _, ok := tv[k]; !ok {
				c.diff(join(path, k), KindKeyOnlySandbox, "(absent)", describe(sv[k]))
			}
		}
	case []any:
		c.array(path+"[]", tv, s.([]any))
		if c.values {
			c.arrayValues(path, tv, s.([]any))
		}
	case json.Number:
		sn := s.(json.Number)
		if tf, sf := numberFormat(tv), numberFormat(sn); tf != sf {
			c.diff(path, KindNumberFormat, describe(tv), describe(sn))
		} else if tv != sn {
			c.diff(path, KindValue, string(tv), string(sn))
		}
	case string:
		sv := s.(string)
		switch rules[key] {
		case ruleToken:
			if a, b := tokenShape(tv), tokenShape(sv); a != b {
				c.diff(path, KindShape, a, b)
			}
		case ruleURL:
			if a, b := urlShape(tv), urlShape(sv); a != b {
				c.diff(path, KindShape, a, b)
			}
		case ruleDateTime:
			if a, b := digitMask(tv), digitMask(sv); a != b {
				c.diff(path, KindShape, strconv.Quote(a), strconv.Quote(b))
			}
		default:
			if tv != sv {
				c.diff(path, KindValue, strconv.Quote(tv), strconv.Quote(sv))
			}
		}
	case bool:
		if tv != s.(bool) {
			c.diff(path, KindValue, describe(t), describe(s))
		}
	}
}

// array compares lists by the shape of their elements: the union over all elements of
// each path's types. Lengths and values differ by nature (the real bank list is not
// the sandbox's), so neither is compared.
func (c *comparison) array(path string, t, s []any) {
	if len(t) == 0 || len(s) == 0 {
		if len(t) != len(s) {
			c.notes = append(c.notes, fmt.Sprintf("%s: target has %d elements, sandbox %d: element shapes not compared", path, len(t), len(s)))
		}
		return
	}
	ts, ss := shapes(path, t), shapes(path, s)
	for _, p := range sortedKeys(ts) {
		sd, ok := ss[p]
		if !ok {
			c.diff(p, KindKeyOnlyTarget, strings.Join(ts[p], " | "), "(absent)")
			continue
		}
		td := ts[p]
		if slices.Equal(td, sd) {
			continue
		}
		kind := KindType
		if allNumbers(td) && allNumbers(sd) {
			kind = KindNumberFormat
		}
		c.diff(p, kind, strings.Join(td, " | "), strings.Join(sd, " | "))
	}
	for _, p := range sortedKeys(ss) {
		if _, ok := ts[p]; !ok {
			c.diff(p, KindKeyOnlySandbox, "(absent)", strings.Join(ss[p], " | "))
		}
	}
}

func allNumbers(ds []string) bool {
	for _, d := range ds {
		if !strings.HasPrefix(d, "number") {
			return false
		}
	}
	return true
}

// shapes flattens the elements of a list to path → sorted type descriptors.
func shapes(path string, elems []any) map[string][]string {
	sets := map[string]map[string]bool{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		add := func(d string) {
			if sets[p] == nil {
				sets[p] = map[string]bool{}
			}
			sets[p][d] = true
		}
		switch x := v.(type) {
		case map[string]any:
			add("object")
			for k, e := range x {
				walk(join(p, k), e)
			}
		case []any:
			add("array")
			for _, e := range x {
				walk(p+"[]", e)
			}
		case json.Number:
			add("number " + numberFormat(x))
		default:
			add(typeOf(v))
		}
	}
	for _, e := range elems {
		walk(path, e)
	}
	out := make(map[string][]string, len(sets))
	for p, set := range sets {
		out[p] = sortedKeys(set)
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// describe writes a value with its type for the report: `string "100.00"`,
// `number 100.0000 (4 decimals)`, `object`.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool " + strconv.FormatBool(x)
	case json.Number:
		return "number " + string(x) + " (" + numberFormat(x) + ")"
	case string:
		return "string " + strconv.Quote(x)
	case []any:
		return fmt.Sprintf("array of %d", len(x))
	case map[string]any:
		return "object"
	}
	return fmt.Sprint(v)
}

// numberFormat classifies a JSON number literal: "integer", "4 decimals", "exponent".
// The vendor writes amounts with four decimals (300.0000); a gateway that writes 300 or
// 300.00 breaks merchants who compare strings.
func numberFormat(n json.Number) string {
	s := string(n)
	if strings.ContainsAny(s, "eE") {
		return "exponent"
	}
	if _, frac, ok := strings.Cut(s, "."); ok {
		if len(frac) == 1 {
			return "1 decimal"
		}
		return strconv.Itoa(len(frac)) + " decimals"
	}
	return "integer"
}

// tokenShape is a regular expression class and length that a token matches:
// "[A-Za-z0-9]{20}", "[0-9a-f]{32}". The classes are tried narrowest first.
func tokenShape(s string) string {
	return charClass(s) + "{" + strconv.Itoa(utf8.RuneCountInString(s)) + "}"
}

func charClass(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range []struct {
		class string
		ok    func(r rune) bool
	}{
		{"[0-9]", func(r rune) bool { return r >= '0' && r <= '9' }},
		{"[0-9a-f]", func(r rune) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' }},
		{"[0-9A-F]", func(r rune) bool { return r >= '0' && r <= '9' || r >= 'A' && r <= 'F' }},
		{"[A-Za-z0-9]", isAlnum},
		{"[A-Za-z0-9_-]", func(r rune) bool { return isAlnum(r) || r == '_' || r == '-' }},
	} {
		if strings.IndexFunc(s, func(r rune) bool { return !c.ok(r) }) < 0 {
			return c.class
		}
	}
	return "."
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// urlShape is a URL's path with numeric segments generalised and its sorted query keys
// with their values' classes ("true" and "false" kept): for the vendor's
// https://xxxxx.com/checkout/order-pay/92/?pay_for_order=true&key=1234 it is
// "/checkout/order-pay/{[0-9]}/?key={[0-9]}&pay_for_order=true". Scheme and host differ
// by nature and are left out.
func urlShape(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "not a URL: " + tokenShape(s)
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		if seg != "" && charClass(seg) == "[0-9]" {
			segs[i] = "{[0-9]}"
		}
	}
	out := strings.Join(segs, "/")
	q := u.Query()
	if len(q) > 0 {
		var parts []string
		for _, k := range sortedKeys(q) {
			for _, v := range q[k] {
				if v != "true" && v != "false" {
					v = "{" + charClass(v) + "}"
				}
				parts = append(parts, k+"="+v)
			}
		}
		out += "?" + strings.Join(parts, "&")
	}
	return out
}

// digitMask replaces every digit with 9: "2021-11-18 15:00:00" → "9999-99-99 99:99:99".
func digitMask(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '9'
		}
		return r
	}, s)
}
