package client

import (
	"bytes"
	"encoding/json"
)

// utf8BOM is what some PHP deployments print before the JSON when a source file was
// saved with a byte-order mark.
var utf8BOM = []byte("\xEF\xBB\xBF")

// StripTrailingCommas removes every comma that, outside strings, is followed (after
// optional JSON whitespace) by a closing } or ]. The vendor's examples carry such
// commas (`{"status": true, "message": "Success",}`), which encoding/json refuses.
//
// Only that one comma goes: the whitespace stays, a doubled comma (`[1,,]`) stays
// invalid, and commas inside strings (`"a,}"`) are never touched, so valid JSON comes
// back unchanged (the same slice, not a copy).
func StripTrailingCommas(b []byte) []byte {
	var out []byte // nil until the first comma is dropped
	inString, escaped := false, false
	last := 0 // b[last:i] is still to be copied into out
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ',':
			j := i + 1
			for j < len(b) && isJSONSpace(b[j]) {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				if out == nil {
					out = make([]byte, 0, len(b))
				}
				out = append(out, b[last:i]...)
				last = i + 1
			}
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Tolerate returns b made acceptable to encoding/json the way the vendor's answers
// need: a leading UTF-8 byte-order mark dropped and trailing commas stripped. It
// reports whether anything changed.
func Tolerate(b []byte) ([]byte, bool) {
	t := bytes.TrimPrefix(b, utf8BOM)
	t = StripTrailingCommas(t)
	return t, len(t) != len(b)
}

// Unmarshal is json.Unmarshal after Tolerate.
func Unmarshal(b []byte, v any) error {
	t, _ := Tolerate(b)
	return json.Unmarshal(t, v)
}

// DecodeNumbers decodes b (after Tolerate) into generic values with numbers kept as
// json.Number, so that 100.0000, 100 and 1e2 stay distinguishable: the parity runner
// compares number formats, not just values.
func DecodeNumbers(b []byte) (any, error) {
	t, _ := Tolerate(b)
	if !json.Valid(t) {
		// json.Unmarshal names the first syntax error; Decode would stop after the
		// first value and accept trailing garbage.
		var v any
		if err := json.Unmarshal(t, &v); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
