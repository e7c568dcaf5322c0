package client

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Sentinel errors, one per vendor message, for errors.Is on an *APIError. A sentinel
// matches every spelling the vendor uses for the same refusal: the document writes
// "Params incorrect" on auth and withdraw_orders but "Params incorrect." on
// generate_orders, "Order ID Exist." for deposits but "Order id exist!" for payouts,
// and a merchant's code should not care which endpoint said it.
var (
	// ErrParamsMissing: a required field is missing or empty.
	ErrParamsMissing = errors.New("vpay88: params missing")
	// ErrParamsIncorrect: unknown merchant, wrong api_key, unknown or expired auth
	// token, or a bad mode.
	ErrParamsIncorrect = errors.New("vpay88: params incorrect")
	// ErrCurrencyInvalid: the currency is not enabled for the merchant.
	ErrCurrencyInvalid = errors.New("vpay88: currency invalid")
	// ErrInvalidAmount: the amount is not a positive decimal or is outside the
	// currency's limits ("Invalid Amount." on deposits, "Amount Invalid!" on payouts).
	ErrInvalidAmount = errors.New("vpay88: invalid amount")
	// ErrEmailIncorrect: the customer's email is malformed.
	ErrEmailIncorrect = errors.New("vpay88: email incorrect")
	// ErrBankIDInvalid: the bank_id is not in the currency's bank list.
	ErrBankIDInvalid = errors.New("vpay88: bank_id invalid")
	// ErrOrderIDExist: the merchant order id was used before (per kind).
	ErrOrderIDExist = errors.New("vpay88: order id exists")
	// ErrBalanceNotEnough: a payout plus its fee exceeds the available balance.
	ErrBalanceNotEnough = errors.New("vpay88: balance not enough")
	// ErrOrderNotFound: check_status of an unknown id. The vendor does not document
	// this answer; "Order not found." is the sandbox's guess (README, guessed
	// behaviours), so the real gateway may answer otherwise.
	ErrOrderNotFound = errors.New("vpay88: order not found")

	// ErrUnexpectedResponse: the answer is not the API's JSON (not HTTP 200, not
	// JSON, no "status" field). It is wrapped in a *ResponseError.
	ErrUnexpectedResponse = errors.New("vpay88: unexpected response")
	// ErrBadToken: a callback's token is not md5(secret key + order id).
	ErrBadToken = errors.New("vpay88: callback token does not verify")
	// ErrBadCallback: a callback body is not the vendor's callback JSON.
	ErrBadCallback = errors.New("vpay88: malformed callback")
)

// sentinels maps each sentinel to the vendor texts it stands for, compared after
// normalizeMessage.
var sentinels = []struct {
	err   error
	texts []string
}{
	{ErrParamsMissing, []string{gateway.MsgParamsMissing}},
	{ErrParamsIncorrect, []string{gateway.MsgParamsIncorrect, gateway.MsgParamsIncorrectDot}},
	{ErrCurrencyInvalid, []string{gateway.MsgCurrencyInvalid}},
	{ErrInvalidAmount, []string{gateway.MsgInvalidAmount, gateway.MsgAmountInvalid}},
	{ErrEmailIncorrect, []string{gateway.MsgEmailIncorrect}},
	{ErrBankIDInvalid, []string{gateway.MsgBankIDInvalid}},
	{ErrOrderIDExist, []string{gateway.MsgOrderIDExist, gateway.MsgOrderIDExistWithdrawal}},
	{ErrBalanceNotEnough, []string{gateway.MsgBalanceNotEnough}},
	{ErrOrderNotFound, []string{gateway.MsgOrderNotFound}},
}

// normalizeMessage folds case and trailing punctuation, the two ways the vendor's
// spellings of one message differ.
func normalizeMessage(s string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(s), ".! "))
}

// APIError is a refusal: the gateway answered `{"status":false,"message":…}`.
// errors.Is(err, ErrParamsMissing) and the other sentinels match on its message.
type APIError struct {
	Endpoint Endpoint
	// Message is the vendor's text, exactly as answered.
	Message string
	// Response is the raw answer.
	Response *Response
}

// Error is "vpay88: <endpoint>: <vendor message>".
func (e *APIError) Error() string {
	return fmt.Sprintf("vpay88: %s: %s", e.Endpoint, e.Message)
}

// Is reports whether target is the sentinel for this error's message.
func (e *APIError) Is(target error) bool {
	msg := normalizeMessage(e.Message)
	for _, s := range sentinels {
		if s.err != target {
			continue
		}
		for _, t := range s.texts {
			if normalizeMessage(t) == msg {
				return true
			}
		}
		return false
	}
	return false
}

// ResponseError is an answer that is not the API's JSON; Err wraps
// ErrUnexpectedResponse with the reason.
type ResponseError struct {
	Response *Response
	Err      error
}

// Error names the endpoint and the reason.
func (e *ResponseError) Error() string {
	return fmt.Sprintf("vpay88: %s: %v", e.Response.Endpoint, e.Err)
}

// Unwrap returns the reason.
func (e *ResponseError) Unwrap() error { return e.Err }
