package parity

import (
	"net/url"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Switch attribution: beside the profile, each difference that a dialect switch
// explains says which value of it the target matches (Diff.Switch,
// "withdraw_order_id: off"), so a team that ran its member's answers through parity
// or the proxy learns the merchant's dialect as config (gateway.Switches).

// SwitchFor returns "switch: value" when one dialect switch explains difference d of
// an answer of endpoint (fields is the request, tv and sv the target's and the
// sandbox's decoded bodies), else "".
func SwitchFor(endpoint gateway.Endpoint, fields url.Values, tv, sv any, d Diff) string {
	tm, _ := tv.(map[string]any)
	sm, _ := sv.(map[string]any)
	set := func(sw gateway.Switch, v string) string { return string(sw) + ": " + v }
	switch endpoint {
	case gateway.EndpointWithdrawOrders:
		if d.Path == "withdraw_order_id" && d.Kind == KindKeyOnlyTarget {
			return set(gateway.SwitchWithdrawOrderID, gateway.ValueOn)
		}
		if d.Path == "withdraw_order_id" && d.Kind == KindKeyOnlySandbox && tm["status"] == true {
			return set(gateway.SwitchWithdrawOrderID, gateway.ValueOff)
		}
	case gateway.EndpointCheckStatus, gateway.EndpointCheckWithdrawStatus:
		// A pending order answered {"status":false} alone (docs/fidelity.md, family).
		if len(tm) == 1 && tm["status"] == false && sm["order_status"] == string(gateway.StatusPending) {
			return set(gateway.SwitchPendingStatus, gateway.ValueStatusFalse)
		}
		if tm["order_status"] == string(gateway.StatusPending) && len(sm) == 1 && sm["status"] == false {
			return set(gateway.SwitchPendingStatus, gateway.ValuePending)
		}
	case gateway.EndpointGenerateOrders:
		if fields.Get("email") != "" && fields.Get("phone_number") != "" {
			return ""
		}
		switch d.Path {
		case "status", "message", "p_url":
		default:
			return ""
		}
		if tm["status"] == true {
			return set(gateway.SwitchContactFields, gateway.ValueOptional)
		}
		if tm["status"] == false && tm["message"] == gateway.MsgParamsMissing {
			return set(gateway.SwitchContactFields, gateway.ValueRequired)
		}
	}
	return ""
}

// withSwitches sets the Switch of each difference of an answer.
func withSwitches(endpoint gateway.Endpoint, fields url.Values, tv, sv any, diffs []Diff) {
	for i := range diffs {
		diffs[i].Switch = SwitchFor(endpoint, fields, tv, sv, diffs[i])
	}
}
