package parity

import (
	"net/url"

	"github.com/vpay88/vpay88-sandbox/client"
)

// Values the script sends on purpose.
const (
	// customer is the vendor examples' customer username.
	customer = "john"
	// badAuth has the shape of a real token (20 × [A-Za-z0-9]) but was never issued.
	badAuth = "parityBadAuthToken00"
	// badAPIKey is an api_key no merchant has.
	badAPIKey = "parity-wrong-api-key"
	// badCurrency is enabled for nobody.
	badCurrency = "XXX"
	// badAmount is not a positive number; overAmount is a plain number above any
	// per-order limit the vendor shows (42,000 MYR).
	badAmount  = "-100"
	overAmount = "999999999999"
	badEmail   = "john.example.com"
	badMode    = "NOKIA"
	badBankID  = "999999"
	// The withdrawal error steps carry a holder and an account that no bank would pay
	// out to, in case a target accepted a request the vendor says it refuses.
	safeHolder  = "PARITY TEST DO NOT PAY"
	safeAccount = "0000000000"
)

// side is one party's state through the conversation.
type side struct {
	username string
	apiKey   string
	// token is the auth token from the "auth" step.
	token string
	// bankID and payoutBankID are the first ids of the side's bank_list and
	// withdraw_bank_list for the run's currency.
	bankID, payoutBankID string
}

// run is the state both sides share: what the conversation sends.
type run struct {
	currency     string
	amount       string
	depositID    string
	withdrawalID string
	unknownID    string
	allowPayouts bool
}

// step is one request of the scripted conversation, sent to both sides.
type step struct {
	name     string
	endpoint client.Endpoint
	// fields builds the request for one side.
	fields func(r *run, s *side) url.Values
	// after reads a side's decoded answer (nil when it was not JSON).
	after func(r *run, s *side, v any)
	// when leaves the step out of runs it does not fit.
	when func(r *run) bool
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// deposit is a generate_orders request that succeeds; each error step changes one
// field of it, so the first failing check is the one the step is about.
func deposit(r *run, s *side) url.Values {
	v := vals("username", customer, "auth", s.token, "amount", r.amount, "currency", r.currency,
		"orderid", r.depositID, "email", "john@example.com", "phone_number", "601012456789")
	if needsBank(r.currency) {
		v.Set("bank_id", s.bankID)
	}
	return v
}

func withdrawal(r *run, s *side) url.Values {
	return vals("auth", s.token, "amount", r.amount, "currency", r.currency, "orderid", r.withdrawalID,
		"bank_id", s.payoutBankID, "holder_name", safeHolder, "account_no", safeAccount)
}

// needsBank: the vendor's THB and IDR sections add bank_id to generate_orders.
func needsBank(currency string) bool { return currency == "THB" || currency == "IDR" }

func with(base func(*run, *side) url.Values, kv ...string) func(*run, *side) url.Values {
	return func(r *run, s *side) url.Values {
		v := base(r, s)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
}

func fixed(kv ...string) func(*run, *side) url.Values {
	return func(*run, *side) url.Values { return vals(kv...) }
}

func merchant(kv ...string) func(*run, *side) url.Values {
	return func(_ *run, s *side) url.Values { return vals(append([]string{"username", s.username}, kv...)...) }
}

func payoutsAllowed(r *run) bool { return r.allowPayouts }

// firstBank returns the first id of a bank list answer.
func firstBank(v any) string {
	m, _ := v.(map[string]any)
	list, _ := m["data"].([]any)
	if len(list) == 0 {
		return ""
	}
	b, _ := list[0].(map[string]any)
	switch id := b["id"].(type) {
	case string:
		return id
	case interface{ String() string }: // json.Number
		return id.String()
	}
	return ""
}

// script is the conversation: every endpoint's happy path and each documented error,
// in an order where each step has what it needs (a token, a created order).
func script() []step {
	return []step{
		{name: "currency", endpoint: client.EndpointCurrency, fields: merchant()},
		{name: "currency/missing", endpoint: client.EndpointCurrency, fields: fixed()},
		{name: "currency/unknown-merchant", endpoint: client.EndpointCurrency, fields: fixed("username", "parity-no-such-merchant")},

		{name: "auth", endpoint: client.EndpointAuth,
			fields: func(_ *run, s *side) url.Values { return vals("username", s.username, "api_key", s.apiKey) },
			after: func(_ *run, s *side, v any) {
				m, _ := v.(map[string]any)
				s.token, _ = m["auth"].(string)
			}},
		{name: "auth/bad-key", endpoint: client.EndpointAuth, fields: merchant("api_key", badAPIKey)},
		{name: "auth/missing", endpoint: client.EndpointAuth, fields: merchant()},

		{name: "bank_list", endpoint: client.EndpointBankList, fields: func(r *run, s *side) url.Values {
			return vals("username", s.username, "currency", r.currency)
		}, after: func(_ *run, s *side, v any) { s.bankID = firstBank(v) }},
		{name: "withdraw_bank_list", endpoint: client.EndpointWithdrawBankList, fields: func(r *run, s *side) url.Values {
			return vals("username", s.username, "currency", r.currency)
		}, after: func(_ *run, s *side, v any) { s.payoutBankID = firstBank(v) }},
		{name: "withdraw_bank_list/all-currencies", endpoint: client.EndpointWithdrawBankList, fields: merchant()},
		{name: "withdraw_bank_list/bad-currency", endpoint: client.EndpointWithdrawBankList, fields: merchant("currency", badCurrency)},
		{name: "withdraw_bank_list/missing", endpoint: client.EndpointWithdrawBankList, fields: fixed()},

		{name: "generate_orders/missing", endpoint: client.EndpointGenerateOrders, fields: with(deposit, "phone_number", "")},
		{name: "generate_orders/bad-auth", endpoint: client.EndpointGenerateOrders, fields: with(deposit, "auth", badAuth)},
		{name: "generate_orders/bad-currency", endpoint: client.EndpointGenerateOrders, fields: with(deposit, "currency", badCurrency)},
		{name: "generate_orders/bad-amount", endpoint: client.EndpointGenerateOrders, fields: with(deposit, "amount", badAmount)},
		{name: "generate_orders/amount-over-limit", endpoint: client.EndpointGenerateOrders, fields: with(deposit, "amount", overAmount)},
		{name: "generate_orders/bad-email", endpoint: client.EndpointGenerateOrders, fields: with(deposit, "email", badEmail)},
		{name: "generate_orders/bad-mode", endpoint: client.EndpointGenerateOrders, fields: with(deposit, "mode", badMode),
			when: func(r *run) bool { return r.currency == "MYR" }}, // mode is MYR only
		{name: "generate_orders/bad-bank-id", endpoint: client.EndpointGenerateOrders, fields: with(deposit, "bank_id", badBankID),
			when: func(r *run) bool { return needsBank(r.currency) }},
		{name: "generate_orders", endpoint: client.EndpointGenerateOrders, fields: deposit},
		{name: "generate_orders/duplicate-id", endpoint: client.EndpointGenerateOrders, fields: deposit},

		{name: "check_status", endpoint: client.EndpointCheckStatus, fields: func(r *run, s *side) url.Values {
			return vals("username", s.username, "id", r.depositID)
		}},
		{name: "check_status/customer-username", endpoint: client.EndpointCheckStatus, fields: func(r *run, _ *side) url.Values {
			return vals("username", customer, "id", r.depositID)
		}},
		{name: "check_status/unknown-order", endpoint: client.EndpointCheckStatus, fields: func(r *run, s *side) url.Values {
			return vals("username", s.username, "id", r.unknownID)
		}},
		{name: "check_status/missing", endpoint: client.EndpointCheckStatus, fields: merchant()},

		{name: "withdraw_orders/missing", endpoint: client.EndpointWithdrawOrders, fields: with(withdrawal, "account_no", "")},
		{name: "withdraw_orders/bad-auth", endpoint: client.EndpointWithdrawOrders, fields: with(withdrawal, "auth", badAuth)},
		{name: "withdraw_orders/bad-amount", endpoint: client.EndpointWithdrawOrders, fields: with(withdrawal, "amount", badAmount)},
		{name: "withdraw_orders/bad-bank-id", endpoint: client.EndpointWithdrawOrders, fields: with(withdrawal, "bank_id", badBankID)},
		{name: "withdraw_orders", endpoint: client.EndpointWithdrawOrders, when: payoutsAllowed,
			fields: with(withdrawal, "holder_name", "John Doe", "account_no", "12332343432")},
		{name: "withdraw_orders/duplicate-id", endpoint: client.EndpointWithdrawOrders, when: payoutsAllowed,
			fields: with(withdrawal, "holder_name", "John Doe", "account_no", "12332343432")},
		{name: "check_withdraw_status", endpoint: client.EndpointCheckWithdrawStatus, when: payoutsAllowed,
			fields: func(r *run, s *side) url.Values { return vals("username", s.username, "id", r.withdrawalID) }},
		{name: "check_withdraw_status/unknown-order", endpoint: client.EndpointCheckWithdrawStatus, fields: func(r *run, s *side) url.Values {
			return vals("username", s.username, "id", r.unknownID)
		}},
	}
}
