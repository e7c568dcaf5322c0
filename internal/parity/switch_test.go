package parity_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

func TestSwitchFor(t *testing.T) {
	contact := url.Values{"email": {"a@b.co"}, "phone_number": {"1"}}
	noContact := url.Values{}
	for name, tc := range map[string]struct {
		endpoint gateway.Endpoint
		fields   url.Values
		tv, sv   any
		d        parity.Diff
		want     string
	}{
		"WithdrawIDOn": {gateway.EndpointWithdrawOrders, nil, map[string]any{"status": true}, map[string]any{"status": true},
			parity.Diff{Path: "withdraw_order_id", Kind: parity.KindKeyOnlyTarget}, "withdraw_order_id: on"},
		"WithdrawIDOff": {gateway.EndpointWithdrawOrders, nil, map[string]any{"status": true}, map[string]any{"status": true},
			parity.Diff{Path: "withdraw_order_id", Kind: parity.KindKeyOnlySandbox}, "withdraw_order_id: off"},
		"WithdrawRefused": {gateway.EndpointWithdrawOrders, nil, map[string]any{"status": false}, map[string]any{"status": true},
			parity.Diff{Path: "withdraw_order_id", Kind: parity.KindKeyOnlySandbox}, ""},
		"PendingFalse": {gateway.EndpointCheckStatus, nil, map[string]any{"status": false}, map[string]any{"status": true, "order_status": "pending"},
			parity.Diff{Path: "order_status", Kind: parity.KindKeyOnlySandbox}, "pending_status: status_false"},
		"PendingBack": {gateway.EndpointCheckWithdrawStatus, nil, map[string]any{"status": true, "order_status": "pending"}, map[string]any{"status": false},
			parity.Diff{Path: "order_status", Kind: parity.KindKeyOnlyTarget}, "pending_status: pending"},
		"ContactOptional": {gateway.EndpointGenerateOrders, noContact, map[string]any{"status": true, "p_url": "x"}, map[string]any{"status": false, "message": "Params missing."},
			parity.Diff{Path: "status", Kind: parity.KindValue}, "contact_fields: optional"},
		"ContactRequired": {gateway.EndpointGenerateOrders, noContact, map[string]any{"status": false, "message": "Params missing."}, map[string]any{"status": true},
			parity.Diff{Path: "message", Kind: parity.KindKeyOnlyTarget}, "contact_fields: required"},
		"ContactGiven": {gateway.EndpointGenerateOrders, contact, map[string]any{"status": true}, map[string]any{"status": false},
			parity.Diff{Path: "status", Kind: parity.KindValue}, ""},
		"Unrelated": {gateway.EndpointCurrency, nil, map[string]any{}, map[string]any{}, parity.Diff{Path: "rate"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, parity.SwitchFor(tc.endpoint, tc.fields, tc.tv, tc.sv, tc.d))
		})
	}
}
