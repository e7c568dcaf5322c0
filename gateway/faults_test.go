package gateway_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

func TestFaultSpecNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   gateway.FaultSpec
		want gateway.FaultSpec
		err  string
	}{
		{"StatusDefaults", gateway.FaultSpec{Kind: gateway.FaultStatus}, gateway.FaultSpec{Kind: gateway.FaultStatus, Status: 503, Body: "html"}, ""},
		{"LostAnswerDefaults", gateway.FaultSpec{Kind: gateway.FaultLostAnswer}, gateway.FaultSpec{Kind: gateway.FaultLostAnswer, Status: 504, Body: "html"}, ""},
		{"LostAnswerReset", gateway.FaultSpec{Kind: gateway.FaultLostAnswer, Then: "reset"}, gateway.FaultSpec{Kind: gateway.FaultLostAnswer, Then: "reset", Status: 504, Body: "html"}, ""},
		{"HangBounded", gateway.FaultSpec{Kind: gateway.FaultHang}, gateway.FaultSpec{Kind: gateway.FaultHang, Duration: gateway.Duration(10 * time.Minute)}, ""},
		{"SlowDefault", gateway.FaultSpec{Kind: gateway.FaultSlow}, gateway.FaultSpec{Kind: gateway.FaultSlow, Duration: gateway.Duration(5 * time.Second)}, ""},
		{"MalformedDefault", gateway.FaultSpec{Kind: gateway.FaultMalformed}, gateway.FaultSpec{Kind: gateway.FaultMalformed, Malformed: "truncated"}, ""},
		{"NoKind", gateway.FaultSpec{}, gateway.FaultSpec{}, "kind is required"},
		{"TooLong", gateway.FaultSpec{Kind: gateway.FaultHang, Duration: gateway.Duration(time.Hour)}, gateway.FaultSpec{}, "between 0 and 10m0s"},
		{"ThenOnStatus", gateway.FaultSpec{Kind: gateway.FaultStatus, Then: "reset"}, gateway.FaultSpec{}, "then=reset"},
		{"BadStatus", gateway.FaultSpec{Kind: gateway.FaultStatus, Status: 700}, gateway.FaultSpec{}, "HTTP status"},
		{"MessageNeedsText", gateway.FaultSpec{Kind: gateway.FaultMessage}, gateway.FaultSpec{}, "needs its message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			err := got.Normalize()
			if tc.err != "" {
				require.ErrorIs(t, err, gateway.ErrBadFault)
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMalform(t *testing.T) {
	body := []byte(`{"status":true,"p_url":"https://x/checkout/order-pay/1/?pay_for_order=true&key=k"}`)
	cut := gateway.Malform(body, gateway.MalformedTruncated)
	assert.Len(t, cut, len(body)/2)
	assert.False(t, json.Valid(cut))
	comma := gateway.Malform(body, gateway.MalformedTrailingComma)
	assert.Equal(t, string(body[:len(body)-1])+",}", string(comma))
	assert.Equal(t, `{"status":true,"p_url":"https://x/checkout/order-pay/1/?pay_for_order=true&key=k"}`, string(body), "the original is untouched")
}

func TestErrorPage(t *testing.T) {
	ct, b := gateway.ErrorPage(502, gateway.BodyHTML)
	assert.Equal(t, "text/html", ct)
	assert.Equal(t, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", string(b))
	_, b = gateway.ErrorPage(504, gateway.BodyHTML)
	assert.Contains(t, string(b), "504 Gateway Time-out", "nginx's own wording")
	ct, b = gateway.ErrorPage(500, gateway.BodyJSON)
	assert.Equal(t, "application/json", ct)
	assert.JSONEq(t, `{"status":false,"message":"Internal Server Error."}`, string(b))
	ct, b = gateway.ErrorPage(500, gateway.BodyEmpty)
	assert.Empty(t, ct)
	assert.Empty(t, b)
}
