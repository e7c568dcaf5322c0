package gateway

// The vendor's exact error texts. They differ between endpoints in case and
// punctuation ("Params incorrect" on auth and withdraw_orders, "Params incorrect." on
// generate_orders; "Order ID Exist." for deposits, "Order id exist!" for payouts); the
// sandbox copies each one as the vendor document prints it, so merchants who match on
// the message text see the same strings here as in production.
const (
	MsgParamsMissing          = "Params missing."
	MsgParamsIncorrect        = "Params incorrect"  // auth, withdraw_orders, lookups
	MsgParamsIncorrectDot     = "Params incorrect." // generate_orders
	MsgCurrencyInvalid        = "Currency invalid."
	MsgInvalidAmount          = "Invalid Amount." // generate_orders
	MsgEmailIncorrect         = "email incorrect."
	MsgBankIDInvalid          = "bank_id invalid."
	MsgOrderIDExist           = "Order ID Exist." // generate_orders
	MsgAmountInvalid          = "Amount Invalid!" // withdraw_orders
	MsgOrderIDExistWithdrawal = "Order id exist!" // withdraw_orders
	MsgBalanceNotEnough       = "Balance not enough!"
	MsgSuccess                = "Success"
	// MsgBankMaintenance refuses a payout while the bank is down: not in the document,
	// seen in a live integration's handling of withdraw_orders (docs/fidelity.md, observed).
	MsgBankMaintenance = "Bank Maintenance."
	// MsgOrderNotFound is not in the vendor document; it is the sandbox's guess for
	// check_status of an unknown id (README, guessed behaviours).
	MsgOrderNotFound = "Order not found."
)

// APIError is a refusal answered with the vendor's `{"status":false,"message":…}`.
type APIError struct{ Message string }

// Error returns the vendor message.
func (e *APIError) Error() string { return e.Message }

// Refuse wraps a vendor message as an error.
func Refuse(msg string) error { return &APIError{Message: msg} }
