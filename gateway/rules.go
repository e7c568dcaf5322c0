package gateway

import (
	"errors"
	"strings"
	"time"
)

// The rules an order follows, as pure functions: what a decision schedules, what an
// outcome does to an order, what a settlement moves between balances, and which
// callbacks it sends. The store applies what they compute and the server only
// translates HTTP, so each behaviour is found here, in one hop from its handler.

// OutcomeKind is what a settlement does to a pending order. Three are final statuses;
// the others are not statuses at all: name_mismatch fails a payout with the bank's
// remarks, insufficient_balance refuses it at creation, pending leaves it alone.
type OutcomeKind string

// The outcomes a click, a magic value, a rule or the admin API can ask for.
const (
	OutcomeCompleted           OutcomeKind = "completed"
	OutcomeFail                OutcomeKind = "fail"
	OutcomeRejected            OutcomeKind = "rejected"
	OutcomeNameMismatch        OutcomeKind = "name_mismatch"
	OutcomeInsufficientBalance OutcomeKind = "insufficient_balance"
	OutcomePending             OutcomeKind = "pending"
)

// PayoutOnly reports whether only a withdrawal can have this outcome.
func (k OutcomeKind) PayoutOnly() bool {
	return k == OutcomeRejected || k == OutcomeNameMismatch || k == OutcomeInsufficientBalance
}

// ErrBadOutcome is an outcome that does not fit the order: a payout-only outcome on a
// deposit, or one that is not an outcome at settlement (insufficient_balance).
var ErrBadOutcome = errors.New("outcome does not apply to this order")

// Decision is what the scenarios say about one incoming order (scenarios.Decide).
type Decision struct {
	// Source names what decided: a rule's name, "magic:<value>", or "" for defaults.
	Source string
	// Error is a vendor message to refuse the request with.
	Error   string
	Latency time.Duration
	// Outcome is "" when nothing was decided: the order follows the defaults (a
	// deposit stays pending or auto-settles; a withdrawal completes after a delay).
	Outcome OutcomeKind
	Delay   time.Duration
	Remarks string
	Name    string
	Charge  *Money
	// Paid is what the customer pays instead of the amount (paid_amount).
	Paid   *PaidSpec
	Faults CallbackFaults
	// ReverseAfter schedules a reversal that long after the order settles.
	ReverseAfter time.Duration
	// Fault is done to the request itself; Maintenance opens a maintenance window.
	Fault       *FaultSpec
	Maintenance *Maintenance
}

// Defaults are the configured outcomes of orders no decision settles.
type Defaults struct {
	WithdrawalDelay time.Duration
	// AutoSettle is "" (deposits stay pending), completed or fail.
	AutoSettle      OutcomeKind
	AutoSettleDelay time.Duration
	// DepositExpiry fails a deposit left pending this long (0: never).
	DepositExpiry time.Duration
}

// RemarksExpired is the remarks of a deposit that deposit_expiry failed (README,
// guessed behaviours: the vendor documents no expiry).
const RemarksExpired = "Expired"

// SourceExpiry is the Outcome.Source of an expiry.
const SourceExpiry = "deposit_expiry"

// Plan records a decision on a new order: its rule, its callback faults, and the
// settlement it schedules (SettleAt, SettleOutcome), stored with the order so that a
// restart or a crash resumes it. An order left pending gets no timer.
func Plan(o *Order, d Decision, def Defaults, now time.Time) {
	o.Rule = d.Source
	o.ReverseAfter = Duration(d.ReverseAfter)
	if !d.Faults.IsZero() {
		f := d.Faults
		o.Faults = &f
	}
	outcome, delay := d.Outcome, d.Delay
	if outcome == "" {
		if o.Kind == KindWithdrawal {
			outcome, delay = OutcomeCompleted, def.WithdrawalDelay
		} else if def.AutoSettle != "" {
			outcome, delay = def.AutoSettle, def.AutoSettleDelay
		}
	}
	if outcome == "" || outcome == OutcomePending {
		// A deposit nobody will pay: the customer abandoned the checkout page. An
		// explicit pending rule is no exception, as a customer can abandon any order.
		if o.Kind == KindDeposit && def.DepositExpiry > 0 {
			o.SettleAt = now.Add(def.DepositExpiry)
			o.SettleOutcome = &Outcome{Kind: OutcomeFail, Remarks: RemarksExpired, Source: SourceExpiry}
		}
		return
	}
	source := d.Source
	if source == "" {
		source = "default"
	}
	o.SettleAt = now.Add(delay)
	o.SettleOutcome = &Outcome{Kind: outcome, Remarks: d.Remarks, Name: d.Name, Charge: d.Charge, Paid: d.Paid, Source: source}
}

// PayoutReserve is what an accepted withdrawal holds back: the amount and the fee it
// will be charged (the vendor's payout examples: amount 1, charge "5.00").
func PayoutReserve(amount Money, c Currency) Money { return amount + c.PayoutFee }

// NeedsBank reports whether deposits in a currency name the customer's bank: the
// vendor's THB and IDR sections add bank_id to generate_orders.
func NeedsBank(currency string) bool { return currency == "THB" || currency == "IDR" }

// Settle applies an outcome to a pending order the way the vendor's callbacks show it:
// status, charge, payer name and remarks. payer is the name to give a completed
// deposit when the outcome names none (the sandbox draws one from its seeded faker).
// An outcome of pending returns the order unchanged.
func Settle(o Order, c Currency, out Outcome, payer string) (Order, error) {
	switch out.Kind {
	case OutcomePending:
		return o, nil
	case OutcomeCompleted, OutcomeFail:
	case OutcomeRejected, OutcomeNameMismatch:
		if o.Kind != KindWithdrawal {
			return o, ErrBadOutcome
		}
	default:
		return o, ErrBadOutcome
	}
	if out.Kind == OutcomeNameMismatch {
		record := out.Name
		if record == "" {
			record = BankRecordName(o.HolderName)
		}
		if out.Remarks == "" {
			out.Remarks = NameMismatchRemarks(record, o.HolderName)
		}
		out.Kind, out.Name = OutcomeFail, ""
	}
	o.Status = Status(out.Kind)
	if o.Kind == KindDeposit {
		settleDeposit(&o, c, out, payer)
	} else {
		settleWithdrawal(&o, c, out)
	}
	if out.Charge != nil && o.Status == StatusCompleted {
		o.Charge = *out.Charge
	}
	return o, nil
}

func settleDeposit(o *Order, c Currency, out Outcome, payer string) {
	if o.Status != StatusCompleted {
		// The vendor's fail callback carries no name (a failed deposit has no payer)
		// and no remarks: an outcome's remarks ("Expired") are the order's, shown by
		// the admin API and the dashboard.
		o.Remarks = out.Remarks
		return
	}
	// The payer is the name the outcome gives, else the customer's bank holder name a
	// live integration sent (customer_bank_holder_name), else a generated one.
	o.PayerName = out.Name
	if o.PayerName == "" {
		o.PayerName = o.CustomerHolderName
	}
	if o.PayerName == "" {
		o.PayerName = payer
	}
	if out.Paid != nil {
		o.PaidAmount = out.Paid.Of(o.Amount)
	}
	// The charge is taken from what was paid (README, guessed behaviours).
	o.Charge = o.SettledAmount().Percent(c.DepositChargePercent)
}

func settleWithdrawal(o *Order, c Currency, out Outcome) {
	o.PayerName = o.HolderName
	if out.Name != "" {
		o.PayerName = out.Name
	}
	switch o.Status {
	case StatusCompleted:
		o.Charge, o.Remarks = c.PayoutFee, MsgSuccess
	case StatusRejected:
		o.Remarks = "Rejected"
	default:
		o.Remarks = "Transaction Failed"
	}
	if out.Remarks != "" {
		o.Remarks = out.Remarks
	}
}

// Ledger reasons: why a balance changed.
const (
	ReasonOpening        = "opening"
	ReasonDepositCredit  = "deposit_credit"
	ReasonPayoutReserve  = "payout_reserve"
	ReasonPayoutComplete = "payout_complete"
	ReasonPayoutRelease  = "payout_release"
	ReasonAdminSet       = "admin_set"
)

// Movement is a change of a merchant's balance in one currency.
type Movement struct {
	Available, Reserved Money
	Reason              string
}

// SettlementMovement is what a settled order moves: a completed deposit credits its
// amount minus its charge; a completed payout spends its reservation (the difference
// between the fee reserved and the fee charged goes back to available); a failed or
// rejected payout releases it, since nothing left. A failed deposit moves nothing.
func SettlementMovement(o Order) (Movement, bool) {
	switch {
	case o.Kind == KindDeposit && o.Status == StatusCompleted:
		return Movement{Available: o.SettledAmount() - o.Charge, Reason: ReasonDepositCredit}, true
	case o.Kind == KindWithdrawal && o.Status == StatusCompleted:
		return Movement{Available: o.Reserved - (o.Amount + o.Charge), Reserved: -o.Reserved, Reason: ReasonPayoutComplete}, true
	case o.Kind == KindWithdrawal && (o.Status == StatusFail || o.Status == StatusRejected):
		return Movement{Available: o.Reserved, Reserved: -o.Reserved, Reason: ReasonPayoutRelease}, true
	}
	return Movement{}, false
}

// ReserveMovement is what an accepted payout moves: its reservation from available to
// reserved.
func ReserveMovement(o Order) Movement {
	return Movement{Available: -o.Reserved, Reserved: o.Reserved, Reason: ReasonPayoutReserve}
}

// OutOfOrderHold is how long an out_of_order callback waits when the rule gives no
// delay: long enough for the callbacks of orders settled just after it to overtake it.
const OutOfOrderHold = 2 * time.Second

// Callback is one callback a settlement sends, before the outbox stores it.
type Callback struct {
	// Body is the JSON body; Form says it is sent as the form field json=<JSON>
	// (callback_body: form); URL is where it goes.
	Body []byte
	Form bool
	URL  string
	// At is when its first attempt is due.
	At time.Time
	// Dropped callbacks are recorded, never sent; Note says why any callback beyond the
	// plain one exists ("duplicate", "wrong token", "dropped").
	Dropped bool
	Note    string
}

// Callbacks returns the callbacks of a settled order with its scenario's faults: the
// signed body, held back by a delay or out_of_order, sent with a wrong token,
// duplicated, or dropped; a merchant without a callback URL gets one dropped callback.
//
// The merchant's dialect d shapes the body (CallbackBody), picks the URL (payout_callback_url)
// and the encoding (callback_body).
func Callbacks(o Order, m Merchant, d Dialect, now time.Time) []Callback {
	f := CallbackFaults{}
	if o.Faults != nil {
		f = *o.Faults
	}
	cb := Callback{Body: d.CallbackBody(&o, &m, Token(m.SecretKey, o.OrderID)), At: now,
		URL: d.CallbackURL(o.Kind, &m), Form: d.FormCallback()}
	switch {
	case cb.URL == "":
		cb.Dropped, cb.Note = true, "merchant has no callback_url"
		return []Callback{cb}
	case f.Drop:
		cb.Dropped, cb.Note = true, "dropped by scenario "+o.Rule
		return []Callback{cb}
	}
	if f.WrongToken {
		cb.Body = d.CallbackBody(&o, &m, Token(m.SecretKey+"-wrong", o.OrderID))
		cb.Note = "wrong token by scenario " + o.Rule
	}
	hold := time.Duration(f.Delay)
	if f.OutOfOrder && hold == 0 {
		hold = OutOfOrderHold
	}
	cb.At = now.Add(hold)
	out := []Callback{cb}
	for i := 0; i < f.Duplicate; i++ {
		dup := cb
		dup.Note = strings.TrimSpace("duplicate by scenario " + o.Rule)
		out = append(out, dup)
	}
	return out
}

// ErrNotSettled refuses to reverse an order that has not settled.
var ErrNotSettled = errors.New("order is pending: only a settled order can be reversed")

// ReasonReversal is the ledger entry of a reversal.
const ReasonReversal = "reversal"

// Reverse gives a settled order the other final status, as live merchants see a
// completed payout later reported failed and a failed one later completed, each by a
// second callback (docs/fidelity.md, observed): completed becomes fail, fail or rejected becomes
// completed. It returns the order and what the reversal moves between balances:
//   - a completed deposit that fails gives back its credit (amount minus charge);
//   - a failed deposit that completes is credited as a settlement would be;
//   - a completed payout that fails returns its amount and fee (the fee is "0" on a
//     failed payout's callback, so it is refunded);
//   - a failed or rejected payout that completes spends its amount and fee.
//
// Balances may go below zero: the gateway reverses what it reported, whatever the
// merchant did with the money meanwhile (README, guessed behaviours).
func Reverse(o Order, c Currency, payer string, now time.Time) (Order, Movement, error) {
	if !o.Settled() {
		return o, Movement{}, ErrNotSettled
	}
	mv := Movement{Reason: ReasonReversal}
	switch {
	case o.Kind == KindDeposit && o.Status == StatusCompleted:
		mv.Available = -(o.SettledAmount() - o.Charge)
		o.Status, o.Charge, o.PayerName, o.PaidAmount = StatusFail, 0, "", 0
	case o.Kind == KindDeposit:
		o.Status, o.Charge = StatusCompleted, o.Amount.Percent(c.DepositChargePercent)
		if o.PayerName = o.CustomerHolderName; o.PayerName == "" {
			o.PayerName = payer
		}
		mv.Available = o.Amount - o.Charge
	case o.Status == StatusCompleted:
		mv.Available = o.Amount + o.Charge
		o.Status, o.Charge, o.Remarks = StatusFail, 0, "Reversed"
	default:
		o.Status, o.Charge, o.Remarks = StatusCompleted, c.PayoutFee, MsgSuccess
		mv.Available = -(o.Amount + o.Charge)
	}
	o.Reversals++
	o.ReversedAt, o.ReverseAt, o.ReverseAfter = now, time.Time{}, 0
	return o, mv, nil
}
