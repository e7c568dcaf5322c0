package server

import (
	"errors"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/scenarios"
	"github.com/vpay88/vpay88-sandbox/store"
)

// errBadOutcome is an outcome that does not fit the order (admin API, rules).
var errBadOutcome = errors.New("outcome does not apply to this order")

// outOfOrderHold is how long an out_of_order callback waits when the rule gives no
// delay: long enough for the callbacks of orders settled just after it to overtake it.
const outOfOrderHold = 2 * time.Second

// settle applies an outcome to a pending order: status, charge, payer name and remarks,
// the balance, and the callbacks, in one transaction.
func (s *Server) settle(kind gateway.Kind, merchant, orderID string, out gateway.Outcome) (*gateway.Order, error) {
	m := s.merchant(merchant)
	if m == nil {
		return nil, store.ErrNotFound
	}
	o, dels, err := s.store.Settle(kind, merchant, orderID, func(o *gateway.Order) ([]*store.Delivery, error) {
		if err := s.applyOutcome(m, o, out); err != nil {
			return nil, err
		}
		if o.Status == gateway.StatusPending {
			return nil, nil
		}
		return s.deliveries(m, o), nil
	})
	if err != nil {
		return o, err
	}
	s.events.publish("order")
	if o.Settled() {
		s.metrics.orderSettled(o)
		if len(dels) > 0 {
			s.dispatcher.Notify()
		}
	}
	return o, nil
}

// applyOutcome sets the final fields of an order the way the vendor's callbacks show
// them.
func (s *Server) applyOutcome(m *gateway.Merchant, o *gateway.Order, out gateway.Outcome) error {
	cc, _ := m.Currency(o.Currency)
	status := out.Status
	if status == scenarios.OutcomeNameMismatch {
		status = gateway.StatusFail
		if o.Kind != gateway.KindWithdrawal {
			return errBadOutcome
		}
		record := out.Name
		if record == "" {
			record = gateway.BankRecordName(o.HolderName)
		}
		if out.Remarks == "" {
			out.Remarks = gateway.NameMismatchRemarks(record, o.HolderName)
		}
		out.Name = ""
	}
	switch status {
	case gateway.StatusPending:
		o.Status = gateway.StatusPending
		return nil
	case gateway.StatusCompleted, gateway.StatusFail:
	case gateway.StatusRejected:
		if o.Kind != gateway.KindWithdrawal {
			return errBadOutcome
		}
	default:
		return errBadOutcome
	}
	o.Status = status
	if o.Kind == gateway.KindDeposit {
		// Only a paid deposit has a payer: the vendor's fail callback carries no name,
		// so the order (and its result page) shows none either.
		if status == gateway.StatusCompleted {
			o.PayerName = out.Name
			if o.PayerName == "" {
				s.mu.Lock()
				o.PayerName = s.faker.Name()
				s.mu.Unlock()
			}
			o.Charge = o.Amount.Percent(cc.DepositChargePercent)
		}
	} else {
		o.PayerName = o.HolderName
		if out.Name != "" {
			o.PayerName = out.Name
		}
		switch status {
		case gateway.StatusCompleted:
			o.Charge = cc.PayoutFee
			o.Remarks = gateway.MsgSuccess
		case gateway.StatusRejected:
			o.Remarks = "Rejected"
		default:
			o.Remarks = "Transaction Failed"
		}
		if out.Remarks != "" {
			o.Remarks = out.Remarks
		}
	}
	if out.Charge != nil && status == gateway.StatusCompleted {
		o.Charge = *out.Charge
	}
	return nil
}

// deliveries builds the callbacks of a settled order, with the scenario's faults.
func (s *Server) deliveries(m *gateway.Merchant, o *gateway.Order) []*store.Delivery {
	now := s.store.Now().UTC()
	body := gateway.CallbackBody(o, m.SecretKey)
	f := o.Faults
	if f == nil {
		f = &gateway.CallbackFaults{}
	}
	d := &store.Delivery{Merchant: o.Merchant, Kind: o.Kind, OrderID: o.OrderID, URL: m.CallbackURL, Body: body, NextAt: now}
	switch {
	case m.CallbackURL == "":
		d.State, d.Note = store.DeliveryDropped, "merchant has no callback_url"
		return []*store.Delivery{d}
	case f.Drop:
		d.State, d.Note = store.DeliveryDropped, "dropped by scenario "+o.Rule
		return []*store.Delivery{d}
	}
	if f.WrongToken {
		d.Body = gateway.CallbackBodyWithToken(o, gateway.Token(m.SecretKey+"-wrong", o.OrderID))
		d.Note = "wrong token by scenario " + o.Rule
	}
	hold := time.Duration(f.Delay)
	if f.OutOfOrder && hold == 0 {
		hold = outOfOrderHold
	}
	d.NextAt = now.Add(hold)
	out := []*store.Delivery{d}
	for i := 0; i < f.Duplicate; i++ {
		dup := *d
		dup.Note = "duplicate by scenario " + o.Rule
		out = append(out, &dup)
	}
	return out
}

// kick wakes the settlement scheduler after a new timer was stored.
func (s *Server) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// scheduleLoop settles orders whose scheduled outcome is due: withdrawal delays,
// auto_settle, delayed rules. Timers live in bbolt, so they resume after a restart.
func (s *Server) scheduleLoop() {
	defer s.wg.Done()
	for {
		due, _ := s.store.Due(s.store.Now())
		for _, o := range due {
			if s.ctx.Err() != nil {
				return
			}
			out := gateway.Outcome{Status: gateway.StatusCompleted}
			if o.SettleOutcome != nil {
				out = *o.SettleOutcome
			}
			if _, err := s.settle(o.Kind, o.Merchant, o.OrderID, out); err != nil && !errors.Is(err, store.ErrAlreadySettled) {
				s.log.Error("scheduled settlement", "order", o.OrderID, "kind", o.Kind, "err", err)
				// Never spin on an order that cannot settle: drop its timer by settling
				// it as pending.
				_, _, _ = s.store.Settle(o.Kind, o.Merchant, o.OrderID, func(o *gateway.Order) ([]*store.Delivery, error) { return nil, nil })
			}
		}
		wait := time.Hour
		if at, ok, err := s.store.NextDue(); err != nil {
			s.log.Error("read settlement timers", "err", err)
		} else if ok {
			wait = max(0, at.Sub(s.store.Now()))
		}
		t := s.store.Clock().NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}
