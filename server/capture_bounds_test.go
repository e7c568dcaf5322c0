package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// forgedCallback is a completed deposit's callback for orderID signed with secret.
func forgedCallback(orderID, secret string) []byte {
	o := &gateway.Order{Kind: gateway.KindDeposit, OrderID: orderID, Amount: gateway.MustMoney("100"), Currency: "MYR",
		Status: gateway.StatusCompleted, Charge: gateway.MustMoney("3"), PayerName: "John Tan"}
	return gateway.CallbackBodyWithToken(o, gateway.Token(secret, orderID))
}

// TestCaptureTokenTriesBounded: with 150 merchants made at run time, a token no
// secret signs is checked against at most 100 of them and said so in a summary that
// names five; a token of a merchant past the first 100 still verifies when the
// capture is named after it, or when it holds the order.
func TestCaptureTokenTriesBounded(t *testing.T) {
	e := openCaptureEnv(t, "")
	var made []merchantJSON
	for i := range 150 {
		made = append(made, e.addMerchant(t, fmt.Sprintf(`{"username":"team-%03d"}`, i)))
	}
	last := made[len(made)-1]

	postCapture(t, e, "nobody", forgedCallback("CAP-B1", "no-such-secret"))
	_, caps := listCaptures(t, e, "name=nobody")
	require.Len(t, caps, 1)
	detail := caps[0].finding("token")
	assert.Contains(t, detail, "matches no secret of the 100 merchants tried (tried vpay88-test, ")
	assert.Contains(t, detail, "and 95 more")
	assert.Contains(t, detail, "51 merchants were not tried")
	assert.NotContains(t, detail, "team-100", "the summary names five, not every merchant")
	assert.Less(t, len(detail), 600)

	// Past the first 100, found by the capture's name...
	postCapture(t, e, last.Username, forgedCallback("CAP-B2", last.SecretKey))
	_, caps = listCaptures(t, e, "name="+last.Username)
	require.Len(t, caps, 1)
	assert.Equal(t, last.Username, caps[0].Merchant, "%+v", caps[0].Findings)

	// ... or by the order it holds.
	e.depositAs(t, last, "CAP-B3", "100")
	postCapture(t, e, "uat", forgedCallback("CAP-B3", last.SecretKey))
	_, caps = listCaptures(t, e, "name=uat")
	require.Len(t, caps, 1)
	assert.Equal(t, last.Username, caps[0].Merchant, "%+v", caps[0].Findings)
}

// TestCaptureLogCountsItsJSON: the log's 8 MiB bound counts each capture as its JSON
// in the list, findings included: 64 KiB bodies of control characters (six bytes
// each in JSON) keep about 20 captures, not 128, and the whole list fits the bound.
// A finding's detail (a forged body's 20,000 extra keys) is cut at 1 KiB.
func TestCaptureLogCountsItsJSON(t *testing.T) {
	e := openCaptureEnv(t, "")
	ctl := bytes.Repeat([]byte{1}, 64<<10)
	for range 40 {
		code, _ := postCapture(t, e, "ctl", ctl)
		require.Equal(t, http.StatusOK, code)
	}
	var keys strings.Builder
	keys.WriteString(`{"order_id":"X","token":"y"`)
	for i := range 20000 {
		fmt.Fprintf(&keys, `,"k%d":0`, i)
	}
	keys.WriteString("}")
	code, _ := postCapture(t, e, "keys", []byte(keys.String()))
	require.Equal(t, http.StatusOK, code)

	resp, err := http.Get(e.URL + "/sandbox/api/captures?limit=500")
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	var v struct {
		Total    int           `json:"total"`
		Bytes    int           `json:"bytes"`
		MaxBytes int           `json:"max_bytes"`
		Captures []captureJSON `json:"captures"`
	}
	require.NoError(t, json.Unmarshal(raw, &v))
	assert.Equal(t, 8<<20, v.MaxBytes)
	assert.LessOrEqual(t, v.Bytes, v.MaxBytes)
	assert.Less(t, v.Total, 25, "each capture counts ~384 KiB of JSON")
	assert.Greater(t, v.Total, 15)
	assert.Less(t, len(raw), v.MaxBytes+64<<10, "the list is as large as the log counts")
	require.Equal(t, "keys", v.Captures[0].Name)
	extra := v.Captures[0].finding("keys_extra")
	assert.LessOrEqual(t, len(extra), 1<<10+30)
	assert.Contains(t, extra, "…[cut ")
}

// TestCaptureStampedWithSandboxClock: a capture's time is the sandbox's, as an
// order's is, not the machine's.
func TestCaptureStampedWithSandboxClock(t *testing.T) {
	e := openCaptureEnv(t, "")
	now := e.advance(t, "48h").Now
	postCapture(t, e, "clock", forgedCallback("CAP-T1", testSecret))
	_, caps := listCaptures(t, e, "name=clock")
	require.Len(t, caps, 1)
	assert.WithinDuration(t, now, caps[0].Time, time.Hour)
	assert.True(t, caps[0].Time.After(time.Now().Add(47*time.Hour)), "%s", caps[0].Time)
}
