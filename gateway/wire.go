package gateway

import (
	"strconv"
	"strings"
)

// The vendor API on the wire: its endpoints and the JSON of its answers, written once
// for the server that sends them and the client that reads them.

// Endpoint names one vendor endpoint; its value is the short name used by the
// `vpay88-sandbox client` command, the journal and the parity report.
type Endpoint string

// The eight vendor endpoints, in the vendor document's order.
const (
	EndpointCurrency            Endpoint = "currency"
	EndpointAuth                Endpoint = "auth"
	EndpointGenerateOrders      Endpoint = "generate_orders"
	EndpointWithdrawOrders      Endpoint = "withdraw_orders"
	EndpointWithdrawBankList    Endpoint = "withdraw_bank_list"
	EndpointBankList            Endpoint = "bank_list"
	EndpointCheckStatus         Endpoint = "check_status"
	EndpointCheckWithdrawStatus Endpoint = "check_withdraw_status"
	// EndpointGetBalance is not in the document: live integrations list
	// /wallet/get_balance among the gateway's endpoints without showing its fields
	// (docs/fidelity.md, observed); its request and answer are the sandbox's guess (README).
	EndpointGetBalance Endpoint = "get_balance"
)

// Endpoints lists the endpoints: the document's eight in its order, then get_balance.
func Endpoints() []Endpoint {
	return []Endpoint{EndpointCurrency, EndpointAuth, EndpointGenerateOrders, EndpointWithdrawOrders,
		EndpointWithdrawBankList, EndpointBankList, EndpointCheckStatus, EndpointCheckWithdrawStatus, EndpointGetBalance}
}

// Path is the endpoint's URL path, e.g. "/merchant/auth"; "" for an unknown endpoint.
// The bank lists live under /wallet, not /merchant: that is where the vendor document
// puts withdraw_bank_list (and FPay-compatible integrations call bank_list).
func (e Endpoint) Path() string {
	switch e {
	case EndpointWithdrawBankList, EndpointBankList, EndpointGetBalance:
		return "/wallet/" + string(e)
	case EndpointCurrency, EndpointAuth, EndpointGenerateOrders, EndpointWithdrawOrders, EndpointCheckStatus, EndpointCheckWithdrawStatus:
		return "/merchant/" + string(e)
	}
	return ""
}

// ParseEndpoint accepts an endpoint's name ("check_status") or path
// ("/merchant/check_status", "merchant/check_status").
func ParseEndpoint(s string) (Endpoint, bool) {
	for _, e := range Endpoints() {
		if string(e) == s || e.Path() == s || strings.TrimPrefix(e.Path(), "/") == s {
			return e, true
		}
	}
	return "", false
}

// MessageAnswer is every refusal ({"status":false,"message":"Params missing."}) and
// withdraw_orders' acceptance ({"status":true,"message":"Success"}).
type MessageAnswer struct {
	Status  bool   `json:"status"`
	Message string `json:"message"`
}

// WithdrawAnswer is withdraw_orders' acceptance: the vendor's
// {"status":true,"message":"Success"}, with withdraw_order_id, the gateway's payout
// reference, under withdraw_order_id: on (docs/fidelity.md, family: one integration stores it).
type WithdrawAnswer struct {
	Status          bool   `json:"status"`
	Message         string `json:"message"`
	WithdrawOrderID string `json:"withdraw_order_id,omitempty"`
}

// WithdrawOrderID is a payout's gateway reference: "W" and the gateway's order number
// (README, guessed behaviours: its format is not shown).
func WithdrawOrderID(o *Order) string { return "W" + strconv.FormatUint(o.Number, 10) }

// Rate is one currency of /merchant/currency with its per-order limits.
type Rate struct {
	Currency string `json:"currency"`
	Min      Number `json:"min"`
	Max      Number `json:"max"`
}

// CurrencyAnswer is the answer of /merchant/currency.
type CurrencyAnswer struct {
	Status bool   `json:"status"`
	Rate   []Rate `json:"rate"`
}

// AuthAnswer is the answer of /merchant/auth. OrderID is what live answers carry
// beside the token (three integrations read it, docs/fidelity.md, observed): a fresh gateway-made id that
// merchants send as the orderid of the deposit or payout that follows.
type AuthAnswer struct {
	Status  bool   `json:"status"`
	Auth    string `json:"auth"`
	OrderID string `json:"order_id,omitempty"`
}

// BalanceEntry is one currency of /wallet/get_balance (the sandbox's guess).
type BalanceEntry struct {
	Currency  string `json:"currency"`
	Balance   Number `json:"balance"`
	Available Number `json:"available"`
	Reserved  Number `json:"reserved"`
}

// BalanceAnswer is the answer of /wallet/get_balance (the sandbox's guess, shaped
// like the bank lists: status and a data list).
type BalanceAnswer struct {
	Status bool           `json:"status"`
	Data   []BalanceEntry `json:"data"`
}

// TokenBalanceAnswer is /wallet/get_balance called with auth and currency, as one
// live integration calls it and reads one required scalar, balance (docs/fidelity.md, family); the
// string form and currency are the sandbox's guess.
type TokenBalanceAnswer struct {
	Status   bool   `json:"status"`
	Balance  string `json:"balance"`
	Currency string `json:"currency"`
}

// PendingFalseAnswer is check_status of a pending order under pending_status:
// status_false, {"status":false} alone (docs/fidelity.md, family: one integration against two).
type PendingFalseAnswer struct {
	Status bool `json:"status"`
}

// PayURLAnswer is the answer of /merchant/generate_orders.
type PayURLAnswer struct {
	Status bool   `json:"status"`
	PURL   string `json:"p_url"`
}

// BankListAnswer is the answer of both bank lists.
type BankListAnswer struct {
	Status bool   `json:"status"`
	Data   []Bank `json:"data"`
}

// StatusAnswer is the answer of check_status and check_withdraw_status.
type StatusAnswer struct {
	Status      bool   `json:"status"`
	OrderStatus Status `json:"order_status"`
	// OrderDatetime is the creation time as the gateway writes it, "2021-11-18
	// 15:00:00" (DateTimeLayout, the gateway's local time; the vendor names no zone).
	OrderDatetime string `json:"order_datetime"`
	Amount        Number `json:"amount"`
	Currency      string `json:"currency"`
}
