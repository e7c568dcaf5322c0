package sandboxtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// SettleOption adds a field to Settle: the remarks, the payer's or holder's name, or
// the charge the callback carries.
type SettleOption func(*settleFields)

// settleFields are the admin settle's optional form fields.
type settleFields struct{ v url.Values }

// WithRemarks sets the callback's remarks (a withdrawal's failure reason).
func WithRemarks(s string) SettleOption { return func(f *settleFields) { f.v.Set("remarks", s) } }

// WithName sets the payer's name (a deposit) or the account holder's (a withdrawal).
func WithName(s string) SettleOption { return func(f *settleFields) { f.v.Set("name", s) } }

// WithCharge sets the charge the callback carries, a decimal such as "9.0000".
func WithCharge(s string) SettleOption { return func(f *settleFields) { f.v.Set("charge", s) } }

// Pay settles the merchant's deposit orderID as the customer paying it on the checkout
// page would: completed, the balance credited and the callback sent.
func (sb *Sandbox) Pay(orderID string) error {
	return sb.Settle(gateway.KindDeposit, orderID, gateway.OutcomeCompleted)
}

// Fail settles the merchant's deposit orderID as failed (the customer's payment did not
// go through), and sends the callback.
func (sb *Sandbox) Fail(orderID string) error {
	return sb.Settle(gateway.KindDeposit, orderID, gateway.OutcomeFail)
}

// Settle gives the merchant's order of kind its final outcome, as QA would on the
// dashboard, and sends its callback: gateway.OutcomeCompleted or OutcomeFail for
// either kind, OutcomeNameMismatch or OutcomeRejected for a withdrawal. It goes
// through the admin API, so it works the same on an in-process sandbox and over
// Connect; the order must be pending.
func (sb *Sandbox) Settle(kind gateway.Kind, orderID string, outcome gateway.OutcomeKind, opts ...SettleOption) error {
	if kind != gateway.KindDeposit && kind != gateway.KindWithdrawal {
		return fmt.Errorf("sandboxtest: unknown kind %q (%s)", kind, gateway.OneOf(gateway.Kinds()))
	}
	v := url.Values{"outcome": {string(outcome)}, "merchant": {sb.Username}}
	for _, o := range opts {
		o(&settleFields{v})
	}
	// The admin API names its collections in the plural: /deposits, /withdrawals.
	return sb.form(http.MethodPost, "/sandbox/api/"+string(kind)+"s/"+url.PathEscape(orderID)+"/settle", v)
}

// Reset deletes the merchant's orders, callbacks and ledger and puts its balances back
// at their start. Other merchants of a shared sandbox are untouched.
func (sb *Sandbox) Reset() error {
	return sb.form(http.MethodPost, "/sandbox/api/reset", url.Values{"merchant": {sb.Username}})
}

// SetBalance sets the merchant's available balance in currency to amount, a decimal
// such as "10" or "0.5000" (for "insufficient balance" tests); the change is a ledger
// entry.
func (sb *Sandbox) SetBalance(currency, amount string) error {
	return sb.form(http.MethodPut, "/sandbox/api/balances/"+url.PathEscape(sb.Username)+"/"+url.PathEscape(currency),
		url.Values{"available": {amount}})
}

// form sends one admin request with a form body and requires 200.
func (sb *Sandbox) form(method, path string, v url.Values) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := sb.admin().do(ctx, method, path, "application/x-www-form-urlencoded", []byte(v.Encode()), http.StatusOK, nil)
	if err != nil {
		return fmt.Errorf("sandboxtest: %w", err)
	}
	return nil
}
