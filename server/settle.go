package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v6/data"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// settle applies an outcome to a pending order (gateway.Settle), and stores the order,
// its balance movement and its callbacks (gateway.Callbacks) in one transaction.
func (s *Server) settle(kind gateway.Kind, merchant, orderID string, out gateway.Outcome) (*gateway.Order, error) {
	m := s.merchant(merchant)
	if m == nil {
		return nil, store.ErrNotFound
	}
	o, dels, err := s.store.Settle(kind, merchant, orderID, func(o *gateway.Order) ([]*store.Delivery, error) {
		cc, _ := m.Currency(o.Currency)
		settled, err := gateway.Settle(*o, cc, out, s.payerName())
		if err != nil {
			return nil, err
		}
		*o = settled
		if !o.Settled() {
			return nil, nil
		}
		return s.deliveries(m, o), nil
	})
	if err != nil {
		return o, err
	}
	s.events.Publish("order")
	if o.Settled() {
		s.metrics.orderSettled(o)
		if len(dels) > 0 {
			s.dispatcher.Notify()
		}
	}
	if !o.ReverseAt.IsZero() {
		s.kick() // a reversal timer was stored: the scheduler must wait for it
	}
	return o, nil
}

// payerName draws a payer's name from gofakeit's name lists with the seeded source, so
// a --seed run repeats. It draws as gofakeit's Faker.Name does (a first name, then a
// last name, each an Intn of the list's length, from math/rand seeded as gofakeit.New
// seeds it), so a seed gives the names it gave before; it uses the data package alone
// because importing gofakeit itself links every one of its generators, which its
// function registry keeps alive: 1.5 MB of the binary, paged in at start (idle RSS).
func (s *Server) payerName() string {
	first, last := data.Person["first"], data.Person["last"]
	s.fakerMu.Lock()
	defer s.fakerMu.Unlock()
	f := first[s.faker.Intn(len(first))]
	return f + " " + last[s.faker.Intn(len(last))]
}

// deliveries turns the callbacks of a settled order into outbox entries.
func (s *Server) deliveries(m *gateway.Merchant, o *gateway.Order) []*store.Delivery {
	cbs := gateway.Callbacks(*o, *m, s.dialect(m), s.store.Now().UTC())
	out := make([]*store.Delivery, 0, len(cbs))
	for _, cb := range cbs {
		d := &store.Delivery{Merchant: o.Merchant, Kind: o.Kind, OrderID: o.OrderID, URL: cb.URL,
			Body: cb.Body, NextAt: cb.At, Note: cb.Note, Form: cb.Form}
		if cb.Dropped {
			d.State = store.DeliveryDropped
		}
		out = append(out, d)
	}
	return out
}

// runDue does what an order's timer came due for: its scheduled settlement, or, on a
// settled order, its scheduled reversal (a rule's reverse_after).
func (s *Server) runDue(o *gateway.Order) {
	if o.Settled() {
		if _, err := s.reverse(o.Kind, o.Merchant, o.OrderID, "scenario "+o.Rule); err != nil {
			s.timerFailed("scheduled reversal", o, err)
		}
		return
	}
	out := gateway.Outcome{Kind: gateway.OutcomeCompleted}
	if o.SettleOutcome != nil {
		out = *o.SettleOutcome
	}
	if _, err := s.settle(o.Kind, o.Merchant, o.OrderID, out); err != nil && !errors.Is(err, store.ErrAlreadySettled) {
		s.timerFailed("scheduled settlement", o, err)
	}
}

// timerFailed logs a timer that could not do its work, and drops it: a timer that
// cannot fire must not spin. An order deleted since the timer was read, or whose
// run-time merchant was (a deletion racing the settlement), is expected, not an error.
func (s *Server) timerFailed(what string, o *gateway.Order, err error) {
	level := slog.LevelError
	if deletedMeanwhile(err) {
		level = slog.LevelInfo
		what += " skipped: the order or its merchant was deleted"
	}
	s.log.Log(context.Background(), level, what, "order", o.OrderID, "kind", o.Kind, "merchant", o.Merchant, "err", err)
	if err := s.store.DropTimers(o.Kind, o.Merchant, o.OrderID); err != nil && !deletedMeanwhile(err) {
		s.log.Error("drop timer", "order", o.OrderID, "err", err)
	}
}

// deletedMeanwhile reports an error of an order, or a merchant, deleted while its
// settlement was on its way.
func deletedMeanwhile(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrMerchantGone)
}

// reverse gives a settled order its other final status (gateway.Reverse), with the
// balance movement and a second signed callback, in one transaction.
func (s *Server) reverse(kind gateway.Kind, merchant, orderID, why string) (*gateway.Order, error) {
	m := s.merchant(merchant)
	if m == nil {
		return nil, store.ErrNotFound
	}
	o, dels, err := s.store.Reverse(kind, merchant, orderID, func(o *gateway.Order) (gateway.Movement, []*store.Delivery, error) {
		cc, _ := m.Currency(o.Currency)
		reversed, mv, err := gateway.Reverse(*o, cc, s.payerName(), s.store.Now().UTC())
		if err != nil {
			return mv, nil, err
		}
		*o = reversed
		d := s.deliveries(m, o)
		for _, del := range d {
			del.Note = strings.TrimSpace("reversal " + why + " " + del.Note)
		}
		return mv, d, nil
	})
	if err != nil {
		return o, err
	}
	s.events.Publish("order")
	s.metrics.orderSettled(o)
	if len(dels) > 0 {
		s.dispatcher.Notify()
	}
	s.log.Info("order reversed", "order", orderID, "kind", kind, "status", o.Status, "by", why)
	return o, nil
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
		if s.ctx.Err() != nil {
			return
		}
		s.runTimers()
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
