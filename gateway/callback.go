package gateway

import (
	"encoding/json"
	"strconv"
	"strings"
)

// CallbackAmount is a callback's amount: a JSON number as the vendor's examples write
// it (four decimals for deposits, plain for payouts), or the same digits as a JSON
// string under callback_amount: string (docs/fidelity.md, family: one integration casts it with Java's
// (String)).
type CallbackAmount struct {
	Digits string
	Quoted bool
}

// MarshalJSON writes the number, quoted when the dialect says so.
func (a CallbackAmount) MarshalJSON() ([]byte, error) {
	if a.Quoted {
		return []byte(strconv.Quote(a.Digits)), nil
	}
	return []byte(a.Digits), nil
}

// DepositCallback is the JSON body POSTed for a settled deposit, field for field as the
// vendor's "callback接口" example (charge is a string there, amount a number).
type DepositCallback struct {
	OrderID     string         `json:"order_id"`
	Amount      CallbackAmount `json:"amount"`
	Currency    string         `json:"currency"`
	OrderStatus Status         `json:"order_status"`
	Status      bool           `json:"status"`
	Charge      string         `json:"charge"`
	Token       string         `json:"token"`
	Name        string         `json:"name"`
	Type        Kind           `json:"type"`
	// Username (callback_username: on) and PaymentType (payment_type) are the
	// dialect's additions (docs/fidelity.md).
	Username    string `json:"username,omitempty"`
	PaymentType string `json:"payment_type,omitempty"`
}

// FailedDepositCallback is the body for a failed deposit. The vendor's "创建订单 - 失败"
// example differs from the success one: no name, token before charge, and a charge
// with two decimals; the sandbox copies that shape (README, guessed behaviours).
type FailedDepositCallback struct {
	OrderID     string         `json:"order_id"`
	Amount      CallbackAmount `json:"amount"`
	Currency    string         `json:"currency"`
	OrderStatus Status         `json:"order_status"`
	Status      bool           `json:"status"`
	Token       string         `json:"token"`
	Charge      string         `json:"charge"`
	Type        Kind           `json:"type"`
	Username    string         `json:"username,omitempty"`
	PaymentType string         `json:"payment_type,omitempty"`
}

// WithdrawalCallback is the body for a settled withdrawal. Its amount is written plain
// ("amount": 1 in the vendor's payout examples, where deposits print 300.0000), its fee
// with two places, and remarks come last.
type WithdrawalCallback struct {
	OrderID     string         `json:"order_id"`
	Amount      CallbackAmount `json:"amount"`
	Currency    string         `json:"currency"`
	OrderStatus Status         `json:"order_status"`
	Status      bool           `json:"status"`
	Charge      string         `json:"charge"`
	Token       string         `json:"token"`
	Name        string         `json:"name"`
	Type        Kind           `json:"type"`
	Remarks     string         `json:"remarks"`
	Username    string         `json:"username,omitempty"`
	PaymentType string         `json:"payment_type,omitempty"`
}

// CallbackBody builds the callback JSON of a settled order in the document's dialect.
// The deposit charge keeps four decimals ("9.0000"); the payout fee has two ("5.00"),
// and "0" on a failed payout, as the vendor's withdrawal examples print them.
func CallbackBody(o *Order, secretKey string) []byte {
	return CallbackBodyWithToken(o, Token(secretKey, o.OrderID))
}

// CallbackBodyWithToken builds the document-dialect callback JSON with a given token
// (a scenario's wrong_token fault sends one that does not verify).
func CallbackBodyWithToken(o *Order, token string) []byte {
	return Dialect{}.CallbackBody(o, &Merchant{}, token)
}

// SettledAmount is what a settled order's callback and check_status report: the
// amount the customer paid (paid_amount) on a completed deposit, else the order's.
func (o *Order) SettledAmount() Money {
	if o.Kind == KindDeposit && o.Status == StatusCompleted && o.PaidAmount > 0 {
		return o.PaidAmount
	}
	return o.Amount
}

// CallbackBody builds the callback JSON of a settled order of merchant m in dialect
// d, signed with token: callback_amount, callback_username and payment_type shape it.
func (d Dialect) CallbackBody(o *Order, m *Merchant, token string) []byte {
	quoted := d.Is(SwitchCallbackAmount, ValueString)
	user := ""
	if d.Is(SwitchCallbackUsername, ValueOn) {
		user = m.Username
	}
	// Orders stored before every order named its channel have none: the account's.
	ch := o.PaymentType
	if ch == "" {
		ch = orderPaymentType(m, nil)
	}
	pt := d.PaymentTypeWord(ch)
	amount := CallbackAmount{Digits: o.SettledAmount().String(), Quoted: quoted}
	var v any = DepositCallback{
		OrderID: o.OrderID, Amount: amount, Currency: o.Currency,
		OrderStatus: o.Status, Status: true, Charge: o.Charge.String(),
		Token: token, Name: o.PayerName, Type: o.Kind, Username: user, PaymentType: pt,
	}
	if o.Kind == KindDeposit && o.Status != StatusCompleted {
		v = FailedDepositCallback{OrderID: o.OrderID, Amount: amount, Currency: o.Currency,
			OrderStatus: o.Status, Status: true, Token: token, Charge: o.Charge.Format(2), Type: KindDeposit,
			Username: user, PaymentType: pt}
	}
	if o.Kind == KindWithdrawal {
		charge := o.Charge.Format(2)
		if o.Status != StatusCompleted { // fail and rejected: the vendor's "0"
			charge = "0"
		}
		v = WithdrawalCallback{OrderID: o.OrderID, Amount: CallbackAmount{Digits: o.Amount.Plain(), Quoted: quoted}, Currency: o.Currency,
			OrderStatus: o.Status, Status: true, Charge: charge, Token: token, Name: o.PayerName,
			Type: KindWithdrawal, Remarks: o.Remarks, Username: user, PaymentType: pt}
	}
	b, _ := json.Marshal(v) // plain structs of strings and numbers: cannot fail
	return b
}

// FormCallback reports whether the dialect sends callbacks as the form field
// json=<JSON> (callback_body: form) rather than a JSON body.
func (d Dialect) FormCallback() bool { return d.Is(SwitchCallbackBody, ValueForm) }

// FormCallbackBody is a JSON callback body as callback_body: form sends it:
// application/x-www-form-urlencoded with one field json=<JSON> (docs/fidelity.md, family: one handler
// strips that prefix). The JSON is written as it is, so a handler that only strips
// "json=" from the raw body parses it, as that merchant's does; only the bytes a form
// parser would change or split on (% + & ;) are escaped, so $_POST['json'] and
// url.ParseQuery read the same JSON. Those bytes occur only inside JSON strings (an
// order id with a "+"), the one place the two readings differ (README, guessed
// behaviours).
func FormCallbackBody(jsonBody []byte) []byte {
	return []byte("json=" + formJSONEscaper.Replace(string(jsonBody)))
}

// formJSONEscaper escapes what a form decoder would not give back as written.
var formJSONEscaper = strings.NewReplacer("%", "%25", "+", "%2B", "&", "%26", ";", "%3B")
