package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Status checks read a few fields of an order, and are the sandbox's most frequent
// request: decoding the whole record (thirty-odd fields) was a ninth of a
// check_status's CPU. A head decodes only what a status check answers and matches on.

// orderHead is the part of a stored order that a status check reads.
type orderHead struct {
	Kind      gateway.Kind   `json:"kind"`
	Merchant  string         `json:"merchant"`
	OrderID   string         `json:"order_id"`
	Amount    gateway.Money  `json:"amount"`
	Currency  string         `json:"currency"`
	Status    gateway.Status `json:"status"`
	Customer  string         `json:"customer"`
	CreatedAt time.Time      `json:"created_at"`
	// PaidAmount is what check_status answers of a deposit paid with another amount.
	PaidAmount gateway.Money `json:"paid_amount"`
}

func headAt(tx *bolt.Tx, n []byte) (*gateway.Order, error) {
	v := tx.Bucket(bucketNumbers).Get(n)
	if v == nil {
		return nil, nil
	}
	var h orderHead
	if err := json.Unmarshal(v, &h); err != nil {
		return nil, fmt.Errorf("%w: order: %v", ErrCorrupt, err)
	}
	return &gateway.Order{Kind: h.Kind, Merchant: h.Merchant, OrderID: h.OrderID, Amount: h.Amount, Currency: h.Currency, PaidAmount: h.PaidAmount,
		Status: h.Status, Customer: h.Customer, CreatedAt: h.CreatedAt}, nil
}

// OrderHead is Order with only kind, merchant, order id, amount, currency, status,
// customer, creation time and paid amount filled in: what check_status answers.
func (s *Store) OrderHead(kind gateway.Kind, merchant, orderID string) (*gateway.Order, error) {
	return s.readOrder(OrderKey(kind, merchant, orderID), headAt)
}

// FindOrderHeads is FindOrders with heads (OrderHead) only.
func (s *Store) FindOrderHeads(kind gateway.Kind, orderID string) ([]*gateway.Order, error) {
	return s.findOrders(kind, orderID, headAt)
}
