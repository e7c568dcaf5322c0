package gateway

import "encoding/json"

// DepositCallback is the JSON body POSTed for a settled deposit, field for field as the
// vendor's "callback接口" example (charge is a string there, amount a number).
type DepositCallback struct {
	OrderID     string `json:"order_id"`
	Amount      Number `json:"amount"`
	Currency    string `json:"currency"`
	OrderStatus Status `json:"order_status"`
	Status      bool   `json:"status"`
	Charge      string `json:"charge"`
	Token       string `json:"token"`
	Name        string `json:"name"`
	Type        Kind   `json:"type"`
	// PaymentType is sent under the observed profile only (SPEC §5).
	PaymentType string `json:"payment_type,omitempty"`
}

// FailedDepositCallback is the body for a failed deposit. The vendor's "创建订单 - 失败"
// example differs from the success one: no name, token before charge, and a charge
// with two decimals; the sandbox copies that shape (README, guessed behaviours).
type FailedDepositCallback struct {
	OrderID     string `json:"order_id"`
	Amount      Number `json:"amount"`
	Currency    string `json:"currency"`
	OrderStatus Status `json:"order_status"`
	Status      bool   `json:"status"`
	Token       string `json:"token"`
	Charge      string `json:"charge"`
	Type        Kind   `json:"type"`
	PaymentType string `json:"payment_type,omitempty"`
}

// WithdrawalCallback is the body for a settled withdrawal. Its amount is written plain
// ("amount": 1 in the vendor's payout examples, where deposits print 300.0000), its fee
// with two places, and remarks come last.
type WithdrawalCallback struct {
	OrderID     string     `json:"order_id"`
	Amount      PlainMoney `json:"amount"`
	Currency    string     `json:"currency"`
	OrderStatus Status     `json:"order_status"`
	Status      bool       `json:"status"`
	Charge      string     `json:"charge"`
	Token       string     `json:"token"`
	Name        string     `json:"name"`
	Type        Kind       `json:"type"`
	Remarks     string     `json:"remarks"`
	PaymentType string     `json:"payment_type,omitempty"`
}

// CallbackBody builds the callback JSON for a settled order. The deposit charge keeps
// four decimals ("9.0000"); the payout fee has two ("5.00"), and "0" on a failed
// payout, as the vendor's withdrawal examples print them.
func CallbackBody(o *Order, secretKey string) []byte {
	return CallbackBodyWithToken(o, Token(secretKey, o.OrderID))
}

// CallbackBodyWithToken builds the callback JSON with a given token (a scenario's
// wrong_token fault sends one that does not verify).
func CallbackBodyWithToken(o *Order, token string) []byte {
	d := DepositCallback{
		OrderID: o.OrderID, Amount: Number(o.Amount), Currency: o.Currency,
		OrderStatus: o.Status, Status: true, Charge: o.Charge.String(),
		Token: token, Name: o.PayerName, Type: o.Kind, PaymentType: o.PaymentType,
	}
	var v any = d
	if o.Kind == KindDeposit && o.Status != StatusCompleted {
		v = FailedDepositCallback{OrderID: o.OrderID, Amount: Number(o.Amount), Currency: o.Currency,
			OrderStatus: o.Status, Status: true, Token: token, Charge: o.Charge.Format(2), Type: KindDeposit,
			PaymentType: o.PaymentType}
	}
	if o.Kind == KindWithdrawal {
		charge := o.Charge.Format(2)
		if o.Status != StatusCompleted { // fail and rejected: the vendor's "0"
			charge = "0"
		}
		v = WithdrawalCallback{OrderID: o.OrderID, Amount: PlainMoney(o.Amount), Currency: o.Currency,
			OrderStatus: o.Status, Status: true, Charge: charge, Token: token, Name: o.PayerName,
			Type: KindWithdrawal, Remarks: o.Remarks, PaymentType: o.PaymentType}
	}
	b, _ := json.Marshal(v) // plain structs of strings and Money: cannot fail
	return b
}
