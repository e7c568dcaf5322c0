package client_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/client"
)

func TestStripTrailingCommas(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"VendorWithdrawSuccess", "{\n    \"status\": true,\n    \"message\": \"Success\",\n}", "{\n    \"status\": true,\n    \"message\": \"Success\"\n}"},
		{"VendorCallback", `{"order_id": "20073", "amount": 300.0000, "type":"deposit",   
} `, `{"order_id": "20073", "amount": 300.0000, "type":"deposit"   
} `},
		{"Array", `[1, 2, 3,]`, `[1, 2, 3]`},
		{"Nested", `{"a":[{"b":1,},],}`, `{"a":[{"b":1}]}`},
		{"EmptyWithComma", `{,}`, `{}`},
		{"CommaInString", `{"a":",}","b":",]",}`, `{"a":",}","b":",]"}`},
		{"EscapedQuoteInString", `{"a":"x\",}",}`, `{"a":"x\",}"}`},
		{"EscapedBackslashEndsString", `{"a":"x\\",}`, `{"a":"x\\"}`},
		{"TabsAndCRLF", "[1,\t\r\n]", "[1\t\r\n]"},
		{"DoubleCommaStaysInvalid", `[1,,]`, `[1,]`},
		{"CommaBeforeValue", `[1, 2]`, `[1, 2]`},
		{"UnterminatedString", `{"a":",}`, `{"a":",}`},
		{"TrailingCommaAtEOF", `[1,`, `[1,`},
		{"Unicode", `{"name":"陈,}",}`, `{"name":"陈,}"}`},
		{"Empty", ``, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(client.StripTrailingCommas([]byte(tc.in))))
		})
	}
}

func TestStripTrailingCommas_ValidUnchanged(t *testing.T) {
	in := []byte(`{"status":true,"p_url":"https:\/\/x.com\/checkout\/order-pay\/92\/?pay_for_order=true&key=1234"}`)
	out := client.StripTrailingCommas(in)
	assert.Equal(t, &in[0], &out[0], "valid JSON is returned as is, not copied")
}

func TestUnmarshal_VendorExamples(t *testing.T) {
	var v struct {
		Status  bool   `json:"status"`
		Message string `json:"message"`
	}
	require.NoError(t, client.Unmarshal([]byte("\xEF\xBB\xBF{\n    \"status\": false,\n    \"message\": \"Amount Invalid!\",\n}"), &v))
	assert.Equal(t, "Amount Invalid!", v.Message)

	got, err := client.DecodeNumbers([]byte(`{"amount": 300.0000, "min": 1, "x": "100.00",}`))
	require.NoError(t, err)
	m := got.(map[string]any)
	assert.Equal(t, json.Number("300.0000"), m["amount"], "the literal is kept")
	assert.Equal(t, json.Number("1"), m["min"])
	assert.Equal(t, "100.00", m["x"])

	_, err = client.DecodeNumbers([]byte(`{"a":1}}`))
	assert.Error(t, err, "trailing garbage")
	_, err = client.DecodeNumbers([]byte(`[1,,]`))
	assert.Error(t, err)
}

// addTrailingCommas puts a comma before every } and ] outside strings: what the
// vendor's examples do to valid JSON.
func addTrailingCommas(b []byte) []byte {
	var out []byte
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		} else if c == '"' {
			inString = true
		} else if c == '}' || c == ']' {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return out
}

// FuzzStripTrailingCommas checks, for any input: no panic; nothing is added; valid
// JSON comes back byte for byte; and valid JSON with a comma planted before every
// closing bracket comes back as it was before the planting.
func FuzzStripTrailingCommas(f *testing.F) {
	for _, s := range []string{
		`{"status": true, "message": "Success",}`,
		`{"status":true,"rate":[{"currency":"MYR","min":420.0000,"max":42000.0000},{"currency":"SGD","min":134.0000,"max":13400.0000}]}`,
		`{"a":"\",}\\","b":[[],{}],"c":"\u00e9,]"}`,
		`[1,,]`, `{"a":",}`, `"\\"`, ` [ 1 , ] `, `{}`, `[]`, `null`, `,]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := client.StripTrailingCommas(in)
		if len(out) > len(in) {
			t.Fatalf("output grew: %q -> %q", in, out)
		}
		if !json.Valid(in) {
			return
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("valid JSON changed: %q -> %q", in, out)
		}
		planted := addTrailingCommas(in)
		if back := client.StripTrailingCommas(planted); !bytes.Equal(back, in) {
			t.Fatalf("planted commas not all removed: %q -> %q -> %q", in, planted, back)
		}
		want, err := client.DecodeNumbers(in)
		if err != nil {
			t.Fatalf("valid JSON %q not decoded: %v", in, err)
		}
		got, err := client.DecodeNumbers(planted)
		if err != nil {
			t.Fatalf("tolerant decode of %q: %v", planted, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("decoded values differ: %#v vs %#v", want, got)
		}
	})
}
