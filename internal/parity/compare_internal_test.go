package parity

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTokenShape(t *testing.T) {
	for in, want := range map[string]string{
		"t5IF5r2fXit1FnhjBVQv":             "[A-Za-z0-9]{20}",
		"cb2a91e02770eda1c42d7485f9048913": "[0-9a-f]{32}",
		"CB2A91E0":                         "[0-9A-F]{8}",
		"1234":                             "[0-9]{4}",
		"wc_order_abc-1":                   "[A-Za-z0-9_-]{14}",
		"a b":                              ".{3}",
		"":                                 `""{0}`,
	} {
		assert.Equal(t, want, tokenShape(in), in)
	}
}

func TestURLShape(t *testing.T) {
	vendor := urlShape("https://xxxxx.com/checkout/order-pay/92/?pay_for_order=true&key=1234")
	assert.Equal(t, "/checkout/order-pay/{[0-9]}/?key={[0-9]}&pay_for_order=true", vendor)
	assert.Equal(t, vendor, urlShape("http://127.0.0.1:8088/checkout/order-pay/7/?key=5678&pay_for_order=true"),
		"scheme, host, numbers and parameter order vary by nature")
	assert.NotEqual(t, vendor, urlShape("https://x.com/checkout/order-pay/92/?pay_for_order=true&key=Ab3d"))
	assert.NotEqual(t, vendor, urlShape("https://x.com/index.php/checkout/order-pay/92/?pay_for_order=true&key=1234"))
	assert.Contains(t, urlShape("/relative"), "not a URL")
}

func TestNumberFormatAndDigitMask(t *testing.T) {
	for in, want := range map[string]string{"100": "integer", "100.0000": "4 decimals", "1.5": "1 decimal", "1e2": "exponent", "-3.00": "2 decimals"} {
		assert.Equal(t, want, numberFormat(json.Number(in)), in)
	}
	assert.Equal(t, "9999-99-99 99:99:99", digitMask("2021-11-18 15:00:00"))
	assert.NotEqual(t, digitMask("2021-11-18 15:00:00"), digitMask("2021-11-18T15:00:00Z"))
}

func TestMaskKeepsShape(t *testing.T) {
	for _, s := range []string{"t5IF5r2fXit1FnhjBVQv", "cb2a91e02770eda1c42d7485f9048913", "CB2A91E0", "1234",
		"wc_order_abc-1", "abcdef", "ABCDEFxyz", "aB", "陈先生"} {
		m := mask(s)
		assert.Equal(t, tokenShape(s), tokenShape(m), s)
		if len(s) > 3 {
			assert.NotEqual(t, s, m)
		}
	}
	assert.Equal(t, "x0XA0x0aXxx0AxxxAXXx", mask("t5IF5r2fXit1FnhjBVQv"))
}

func TestRedactor(t *testing.T) {
	r := NewRedactor()
	r.Add("short")                // too short to mask safely
	r.Add("EPSOWM0eewwrwer0OfUo") // an api key
	r.Add("EPSOWM0eewwrwer0OfUo") // once
	r.Learn(map[string]any{"auth": "t5IF5r2fXit1FnhjBVQv"})
	r.Learn(map[string]any{"p_url": "https://x.com/checkout/order-pay/92/?pay_for_order=true&key=Zk3mQ9pLr2Tb"})
	assert.Len(t, r.secrets, 3)
	out := r.Text(`{"a":"EPSOWM0eewwrwer0OfUo","b":"t5IF5r2fXit1FnhjBVQv","c":"...key=Zk3mQ9pLr2Tb","d":"short"}`)
	assert.NotContains(t, out, "EPSOWM0eewwrwer0OfUo")
	assert.NotContains(t, out, "t5IF5r2fXit1FnhjBVQv")
	assert.NotContains(t, out, "Zk3mQ9pLr2Tb")
	assert.Contains(t, out, `"d":"short"`)
	f := r.Fields(map[string][]string{"api_key": {"k"}, "auth": {"t5IF5r2fXit1FnhjBVQv"}, "username": {"john"}})
	assert.Equal(t, map[string]string{"api_key": Redacted, "auth": mask("t5IF5r2fXit1FnhjBVQv"), "username": "john"}, f)
}

func TestCompareObservations(t *testing.T) {
	ob := func(status int, ct, body string) *Observation {
		return &Observation{Status: status, ContentType: ct, Body: body}
	}
	json1 := "application/json"
	for _, tc := range []struct {
		name  string
		t, s  *Observation
		diffs []string // "path kind"
		notes int
	}{
		{"Same", ob(200, json1, `{"status":true,"auth":"t5IF5r2fXit1FnhjBVQv"}`), ob(200, json1, `{"status":true,"auth":"Ab3dEf6hIj9kLm2nOp5q"}`), nil, 0},
		{"TokenLength", ob(200, json1, `{"auth":"t5IF5r2fXit1"}`), ob(200, json1, `{"auth":"Ab3dEf6hIj9kLm2nOp5q"}`), []string{"auth shape"}, 0},
		{"Status", ob(500, json1, `{}`), ob(200, json1, `{}`), []string{" http_status"}, 0},
		{"MediaType", ob(200, "text/html; charset=UTF-8", `{}`), ob(200, json1, `{}`), []string{" content_type"}, 0},
		{"Charset", ob(200, "application/json; charset=UTF-8", `{}`), ob(200, json1, `{}`), nil, 1},
		{"TrailingComma", ob(200, json1, `{"status":true,}`), ob(200, json1, `{"status":true}`), nil, 1},
		{"NotJSON", ob(200, json1, `<html>`), ob(200, json1, `{}`), []string{" json"}, 0},
		{"NeitherJSONSame", ob(404, "text/html", `<h1>404</h1>`), ob(404, "text/html", ` <h1>404</h1>`), nil, 0},
		{"NeitherJSONDiffer", ob(404, "text/html", `<h1>404</h1>`), ob(404, "text/html", `Not Found`), []string{" body"}, 0},
		{"Bool", ob(200, json1, `{"status":false}`), ob(200, json1, `{"status":true}`), []string{"status value"}, 0},
		{"Null", ob(200, json1, `{"x":null}`), ob(200, json1, `{"x":"a"}`), []string{"x type"}, 0},
		{"Amount", ob(200, json1, `{"amount":100.0000}`), ob(200, json1, `{"amount":300.0000}`), []string{"amount value"}, 0},
		{"StringAmount", ob(200, json1, `{"amount":"100.00"}`), ob(200, json1, `{"amount":100.0000}`), []string{"amount type"}, 0},
		{"Datetime", ob(200, json1, `{"order_datetime":"2021-11-18 15:00:00"}`), ob(200, json1, `{"order_datetime":"2030-01-02 03:04:05"}`), nil, 0},
		{"DatetimeISO", ob(200, json1, `{"order_datetime":"2021-11-18T15:00:00Z"}`), ob(200, json1, `{"order_datetime":"2030-01-02 03:04:05"}`), []string{"order_datetime shape"}, 0},
		{"ListsByShape", ob(200, json1, `{"data":[{"id":"1","bank_name":"Maybank"}]}`),
			ob(200, json1, `{"data":[{"id":"1","bank_name":"A"},{"id":"14","bank_name":"B"}]}`), nil, 0},
		{"ListFormats", ob(200, json1, `{"rate":[{"min":420.00}]}`), ob(200, json1, `{"rate":[{"min":1.0000}]}`), []string{"rate[].min number_format"}, 0},
		{"ListMixed", ob(200, json1, `{"data":[{"id":"1"},{"id":2}]}`), ob(200, json1, `{"data":[{"id":"1"}]}`), []string{"data[].id type"}, 0},
		{"EmptyList", ob(200, json1, `{"data":[]}`), ob(200, json1, `{"data":[{"id":"1"}]}`), nil, 1},
		{"NestedKeys", ob(200, json1, `{"a":{"b":1,"c":2}}`), ob(200, json1, `{"a":{"b":1,"d":2}}`), []string{"a.c key_only_in_target", "a.d key_only_in_sandbox"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compareObservations(tc.t, tc.s)
			var got []string
			for _, d := range c.diffs {
				got = append(got, d.Path+" "+d.Kind)
			}
			assert.Equal(t, tc.diffs, got)
			assert.Len(t, c.notes, tc.notes, "%v", c.notes)
		})
	}
}

func TestCompareValues(t *testing.T) {
	ob := func(body string) *Observation {
		return &Observation{Status: 200, ContentType: "application/json", Body: body}
	}
	for _, tc := range []struct {
		name  string
		t, s  string
		diffs []string // "path kind target sandbox"
		notes int
	}{
		{"RatesByValue", `{"rate":[{"currency":"MYR","min":420.0000,"max":42000.0000}]}`, `{"rate":[{"currency":"MYR","min":1.0000,"max":42000.0000}]}`,
			[]string{"rate[currency=MYR].min value 420.0000 1.0000"}, 0},
		{"NumbersByValueNotLiteral", `{"rate":[{"currency":"MYR","min":420.00}]}`, `{"rate":[{"currency":"MYR","min":420.0000}]}`,
			[]string{"rate[].min number_format number 2 decimals number 4 decimals"}, 0},
		{"RatesMissing", `{"rate":[{"currency":"MYR","min":1}]}`, `{"rate":[{"currency":"SGD","min":1},{"currency":"MYR","min":1}]}`,
			[]string{"rate[] elements_only_in_sandbox (absent) 1 element: SGD"}, 0},
		{"BanksByID", `{"data":[{"currency":"MYR","id":1,"bank_name":"Maybank"},{"currency":"MYR","id":"2","bank_name":"CIMB"}]}`,
			`{"data":[{"currency":"MYR","id":"1","bank_name":"Maybank"},{"currency":"MYR","id":"3","bank_name":"CIMB"}]}`,
			[]string{"data[].id type number integer | string string", `data[currency=MYR] elements_only_in_target 1 element: 2 "CIMB" (absent)`,
				`data[currency=MYR] elements_only_in_sandbox (absent) 1 element: 3 "CIMB"`}, 0},
		{"BankNames", `{"data":[{"currency":"MYR","id":"1","bank_name":"MAYBANK"}]}`, `{"data":[{"currency":"MYR","id":"1","bank_name":"Maybank"}]}`,
			[]string{`data[currency=MYR,id=1].bank_name value "MAYBANK" "Maybank"`}, 0},
		{"EmptyListIsADifferenceByValue", `{"data":[]}`, `{"data":[{"currency":"MYR","id":"1","bank_name":"A"}]}`,
			[]string{`data[currency=MYR] elements_only_in_sandbox (absent) 1 element: 1 "A"`}, 1},
		{"Duplicate", `{"data":[{"currency":"MYR","id":"1","bank_name":"A"},{"currency":"MYR","id":"1","bank_name":"B"}]}`,
			`{"data":[{"currency":"MYR","id":"1","bank_name":"A"}]}`, nil, 1},
		{"NoIdentity", `{"x":[{"a":1}]}`, `{"x":[{"a":2}]}`, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compareAnswers(ob(tc.t), ob(tc.s), true)
			var got []string
			for _, d := range c.diffs {
				got = append(got, d.Path+" "+d.Kind+" "+d.Target+" "+d.Sandbox)
			}
			assert.Equal(t, tc.diffs, got)
			assert.Len(t, c.notes, tc.notes, "%v", c.notes)
			// By shape only, none of the value differences.
			for _, d := range compareObservations(ob(tc.t), ob(tc.s)).diffs {
				assert.NotContains(t, d.Path, "=", "values compared without values: %v", d)
			}
		})
	}
}
