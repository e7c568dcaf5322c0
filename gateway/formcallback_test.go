package gateway_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// TestFormCallbackBody: a json=<JSON> callback reads as its JSON both to the handler
// that only strips the prefix from the raw body (docs/fidelity.md, family) and to a form decoder
// ($_POST['json'], url.ParseQuery); the two differ only where a JSON string holds
// one of % + & ; (escaped for the form decoder).
func TestFormCallbackBody(t *testing.T) {
	for _, tc := range []struct {
		json        string
		stripIsJSON bool // the stripped raw body is the JSON itself
	}{
		{`{"order_id":"A-1","amount":"100.0000","name":"Ali Bin Abu","remarks":"Account Holder Name Mismatch (MR SUK THA != SUK THAWAR)"}`, true},
		{`{"order_id":"Ünïcødé 订单","name":"a=b?c#d/e"}`, true},
		{`{"order_id":"A+1","name":"50% & more; ok"}`, false},
	} {
		body := string(gateway.FormCallbackBody([]byte(tc.json)))
		require.True(t, strings.HasPrefix(body, "json="))
		if tc.stripIsJSON {
			assert.Equal(t, tc.json, strings.TrimPrefix(body, "json="), "a handler that strips json= reads the JSON")
		}
		v, err := url.ParseQuery(body)
		require.NoError(t, err, body)
		assert.Len(t, v, 1, body)
		assert.Equal(t, tc.json, v.Get("json"), "a form decoder reads the JSON")
	}
}
