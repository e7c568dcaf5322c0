package gateway

import (
	"slices"
	"strings"
)

// The sandbox's vocabularies: every list of names that more than one surface spells —
// the vendor API, the admin API and its OpenAPI document, the dashboard's choices, the
// scenario rules and their help, the error messages that say what is accepted. Each
// list is written here once; the dashboard renders its choices from these functions,
// and server's TestOpenAPIVocabularies and TestDashboardVocabularies compare the
// OpenAPI enums and the rendered page with them, so a value added here reaches every
// surface and a value typed anywhere else fails a test. Lists whose values have a
// default put it first, so that a form's first choice is the API's default.
//
// Endpoints() (wire.go) is the endpoints' list; the dialect switches (the profile's
// switch table) join these lists when they land.

var (
	kinds          = []Kind{KindDeposit, KindWithdrawal}
	statuses       = []Status{StatusPending, StatusCompleted, StatusFail, StatusRejected}
	outcomes       = []OutcomeKind{OutcomeCompleted, OutcomeFail, OutcomeNameMismatch, OutcomeInsufficientBalance, OutcomeRejected, OutcomePending}
	callbackStates = []string{CallbackPending, CallbackDelivered, CallbackFailed, CallbackDropped}
	faultKinds     = []FaultKind{FaultStatus, FaultHang, FaultReset, FaultSlow, FaultLostAnswer, FaultMalformed, FaultMessage, FaultMaintenance}
	faultBodies    = []string{BodyHTML, BodyJSON, BodyCloudflare, BodyEmpty}
	malformed      = []string{MalformedTruncated, MalformedTrailingComma}
	paymentTypes   = []string{PaymentTypeBank, PaymentTypeDuitNow, PaymentTypeEwallet}
)

// Kinds lists the kinds of order.
func Kinds() []Kind { return slices.Clone(kinds) }

// Statuses lists the statuses an order can have: pending, then the final ones.
func Statuses() []Status { return slices.Clone(statuses) }

// Outcomes lists every outcome a scenario rule can ask for.
func Outcomes() []OutcomeKind { return slices.Clone(outcomes) }

// Valid reports whether k is one of the outcomes.
func (k OutcomeKind) Valid() bool { return slices.Contains(outcomes, k) }

// SettleOutcomes lists the outcomes the admin API (and the dashboard's drawer) settles
// a pending order of kind k with: the final ones, and for a withdrawal the bank's
// name_mismatch and rejected. pending and insufficient_balance are no settlement: one
// leaves the order alone, the other refuses a payout at creation.
func SettleOutcomes(k Kind) []OutcomeKind {
	var out []OutcomeKind
	for _, o := range outcomes {
		if o != OutcomePending && o != OutcomeInsufficientBalance && (k == KindWithdrawal || !o.PayoutOnly()) {
			out = append(out, o)
		}
	}
	return out
}

// The states of a callback in the outbox (store.Delivery's State).
const (
	// CallbackPending is a callback with an attempt to come.
	CallbackPending = "pending"
	// CallbackDelivered is a callback the merchant answered with a 2xx.
	CallbackDelivered = "delivered"
	// CallbackFailed is a callback that used every attempt of its schedule.
	CallbackFailed = "failed"
	// CallbackDropped is a callback never sent: a scenario's drop fault, or a merchant
	// without a callback URL.
	CallbackDropped = "dropped"
)

// CallbackStates lists the states of a callback in the outbox.
func CallbackStates() []string { return slices.Clone(callbackStates) }

// RetryStates lists the states a bulk retry queues again: failed (its default), and
// pending to bring a backing-off callback forward. A delivered callback needs nothing
// and a dropped one was never meant to be sent (its order's resend sends it).
func RetryStates() []string { return []string{CallbackFailed, CallbackPending} }

// FaultKinds lists every kind of fault, maintenance (a window, not a queued fault) last.
func FaultKinds() []FaultKind { return slices.Clone(faultKinds) }

// QueuedFaultKinds lists the kinds a fault on requests can have (the admin API's
// POST /sandbox/api/faults, a scenario's effect.fault): every kind but maintenance,
// which is opened as a window of its own.
func QueuedFaultKinds() []FaultKind {
	return slices.DeleteFunc(FaultKinds(), func(k FaultKind) bool { return k == FaultMaintenance })
}

// FaultBodies lists the bodies of a status or lost_answer fault, the default (html) first.
func FaultBodies() []string { return slices.Clone(faultBodies) }

// MalformedBodies lists the broken bodies of a malformed fault, the default first.
func MalformedBodies() []string { return slices.Clone(malformed) }

// FaultThens lists what a lost_answer fault can do instead of answering.
func FaultThens() []string { return []string{ThenReset} }

// FaultFieldKinds lists, for each field of a FaultSpec besides kind, the kinds that
// read it (the FaultSpec fields' own comments say the same): a form shows a field for
// these kinds only.
func FaultFieldKinds() map[string][]FaultKind {
	return map[string][]FaultKind{
		"status":    {FaultStatus, FaultLostAnswer},
		"body":      {FaultStatus, FaultLostAnswer},
		"then":      {FaultLostAnswer},
		"duration":  {FaultSlow, FaultHang},
		"message":   {FaultMessage},
		"malformed": {FaultMalformed},
	}
}

// PaymentTypes lists the channels of a merchant account that callbacks name (a
// merchant's payment_type may also be a word of its own: ValidPaymentType).
func PaymentTypes() []string { return slices.Clone(paymentTypes) }

// OneOf writes a list for a message that says what is accepted: "a, b or c".
func OneOf[T ~string](vs []T) string {
	var b strings.Builder
	for i, v := range vs {
		switch {
		case i == 0:
		case i == len(vs)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(v))
	}
	return b.String()
}
