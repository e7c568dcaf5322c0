package gateway

import (
	"slices"
	"time"
)

// The checks of the two order endpoints, in the vendor's order, as pure functions:
// the server reads the form and the token, these decide the answer.

// Form is a request's fields as the vendor's PHP reads $_POST (url.Values is one).
type Form interface{ Get(key string) string }

// BankFinder looks a bank up by currency and id in the configured bank lists.
type BankFinder func(currency, id string) (Bank, bool)

// telcoModes are the MYR `mode` values of telco prepaid merchants (vendor: DIGI,
// MAXIS, CELCOM).
var telcoModes = []string{"DIGI", "MAXIS", "CELCOM"}

// TelcoModes returns the accepted MYR `mode` values.
func TelcoModes() []string { return slices.Clone(telcoModes) }

// AnyMissing reports whether any named field is absent or empty: the vendor's
// "Params missing.".
func AnyMissing(f Form, names ...string) bool {
	for _, n := range names {
		if f.Get(n) == "" {
			return true
		}
	}
	return false
}

// AnyBad reports whether any named field breaks its limit or its encoding (CheckField).
// Each endpoint answers such a value with the message it gives for a wrong value of
// that field, so a merchant sees nothing the vendor does not print (README, guessed
// behaviours).
func AnyBad(f Form, names ...string) bool {
	for _, n := range names {
		if CheckField(n, f.Get(n)) != nil {
			return true
		}
	}
	return false
}

// RequireDeposit is generate_orders' first check: every required field is present
// (THB and IDR also need bank_id), else "Params missing.". With contact_fields:
// optional (the observed profile) email and phone_number are optional (docs/fidelity.md, observed); with
// truemoney_bank_id: optional a THB pay_method=truemoney deposit needs no bank_id
// (docs/fidelity.md, family).
func RequireDeposit(f Form, d Dialect) error {
	required := []string{"username", "auth", "amount", "currency", "orderid", "email", "phone_number"}
	if d.Is(SwitchContactFields, ValueOptional) {
		required = required[:5]
	}
	if AnyMissing(f, required...) ||
		(NeedsBank(f.Get("currency")) && f.Get("bank_id") == "" && !bankOptional(f, d)) {
		return Refuse(MsgParamsMissing)
	}
	if AnyBad(f, "auth") {
		return Refuse(MsgParamsIncorrectDot)
	}
	return nil
}

// NewDeposit checks a generate_orders request of merchant m after its token, in the
// vendor's order — currency, amount, email, mode or bank, order id — and returns the
// pending deposit it asks for. Its Key (the checkout page's) is the caller's to set.
func NewDeposit(f Form, m *Merchant, banks BankFinder, d Dialect, now time.Time) (*Order, error) {
	cur := f.Get("currency")
	cc, enabled := m.Currency(cur)
	if !enabled || AnyBad(f, "currency") {
		return nil, Refuse(MsgCurrencyInvalid)
	}
	amount, err := ParseMoney(f.Get("amount"))
	if err != nil || !cc.Allows(amount) || AnyBad(f, "amount") {
		return nil, Refuse(MsgInvalidAmount)
	}
	// An email given is checked, also where it is optional (the observed profile).
	if email := f.Get("email"); (email != "" || !d.Is(SwitchContactFields, ValueOptional)) && (!ValidEmail(email) || AnyBad(f, "email")) {
		return nil, Refuse(MsgEmailIncorrect)
	}
	// The customer's name and phone and the fields live integrations add have no
	// message of their own; "Params incorrect." is the one generate_orders gives for a
	// field whose value it does not take (mode).
	// So do the fields integrations of the family add (docs/fidelity.md, family): pay_method,
	// customer_bank_account, an (empty) callback_url, api_key.
	if AnyBad(f, "username", "phone_number", "bank_code", "customer_bank_holder_name",
		"pay_method", "customer_bank_account", "callback_url", "api_key") {
		return nil, Refuse(MsgParamsIncorrectDot)
	}
	o := &Order{Kind: KindDeposit, Merchant: m.Username, OrderID: f.Get("orderid"), Amount: amount, Currency: cur,
		Status: StatusPending, Customer: f.Get("username"), Email: f.Get("email"), Phone: f.Get("phone_number"),
		BankCode: f.Get("bank_code"), CustomerHolderName: f.Get("customer_bank_holder_name"),
		PayMethod: f.Get("pay_method"), CustomerBankAccount: f.Get("customer_bank_account"),
		RequestCallbackURL: f.Get("callback_url"), APIKeySent: f.Get("api_key") != "", CreatedAt: now}
	o.PaymentType = orderPaymentType(m, o)
	if err := depositChannel(f, o, banks, d); err != nil {
		return nil, err
	}
	// The vendor answers "Order ID Exist." "when the merchant order id is wrong or
	// already exists" (当代理商订单号错误或已存在): an id over its limit is wrong.
	if AnyBad(f, "orderid") {
		return nil, Refuse(MsgOrderIDExist)
	}
	return o, nil
}

// depositChannel reads how the customer pays: MYR's optional telco `mode` and
// `redirect_url` (MYR-only in the vendor document; elsewhere unknown fields, ignored),
// THB's and IDR's `bank_id` from the bank list.
func depositChannel(f Form, o *Order, banks BankFinder, d Dialect) error {
	if o.Currency == "MYR" {
		if AnyBad(f, "redirect_url") {
			return Refuse(MsgParamsIncorrectDot)
		}
		if mode := f.Get("mode"); mode != "" {
			if !slices.Contains(telcoModes, mode) {
				return Refuse(MsgParamsIncorrectDot)
			}
			o.Mode = mode
		}
		o.RedirectURL = f.Get("redirect_url")
	}
	if NeedsBank(o.Currency) && (f.Get("bank_id") != "" || !bankOptional(f, d)) {
		b, ok := banks(o.Currency, f.Get("bank_id"))
		if !ok {
			return Refuse(MsgBankIDInvalid)
		}
		o.BankID, o.BankName = b.ID, b.Name
		return nil
	}
	// Elsewhere bank_id is not the document's, yet members send it (FPay BDT 800,
	// docs/fidelity.md, family): a bank of the currency's list is stored and shown, any other value
	// ignored as an unknown field is.
	if id := f.Get("bank_id"); id != "" && CheckField("bank_id", id) == nil {
		if b, ok := banks(o.Currency, id); ok {
			o.BankID, o.BankName = b.ID, b.Name
		}
	}
	return nil
}

// RequireWithdrawal is withdraw_orders' first check: every required field is present,
// else "Params missing.".
func RequireWithdrawal(f Form) error {
	if AnyMissing(f, "auth", "amount", "currency", "orderid", "bank_id", "holder_name", "account_no") {
		return Refuse(MsgParamsMissing)
	}
	if AnyBad(f, "auth") {
		return Refuse(MsgParamsIncorrect)
	}
	return nil
}

// NewWithdrawal checks a withdraw_orders request of merchant m after its token, in
// the vendor's order — payee fields, amount, bank, order id — and returns the pending
// payout with its reservation (PayoutReserve). Whether the balance covers it is the
// store's check, made atomically with the reservation.
func NewWithdrawal(f Form, m *Merchant, banks BankFinder, now time.Time) (*Order, error) {
	// The payee's fields have no message of their own; "Params incorrect" is the one
	// withdraw_orders gives for a request it does not take.
	if AnyBad(f, "holder_name", "account_no", "bank_branch") {
		return nil, Refuse(MsgParamsIncorrect)
	}
	cur := f.Get("currency")
	cc, enabled := m.Currency(cur)
	amount, err := ParseMoney(f.Get("amount"))
	// The vendor has no "Currency invalid." for payouts: a currency the merchant does
	// not have makes the amount invalid against its (absent) limits.
	if !enabled || err != nil || !cc.Allows(amount) || AnyBad(f, "amount", "currency") {
		return nil, Refuse(MsgAmountInvalid)
	}
	b, ok := banks(cur, f.Get("bank_id"))
	if !ok || AnyBad(f, "bank_id") {
		return nil, Refuse(MsgBankIDInvalid)
	}
	// As for deposits (当代理商订单号错误或已存在), a wrong order id shares the
	// duplicate's message: here the payout's "Order id exist!".
	if AnyBad(f, "orderid") {
		return nil, Refuse(MsgOrderIDExistWithdrawal)
	}
	return &Order{Kind: KindWithdrawal, Merchant: m.Username, OrderID: f.Get("orderid"), Amount: amount, Currency: cur,
		Status: StatusPending, BankID: b.ID, BankName: b.Name, HolderName: f.Get("holder_name"), AccountNo: f.Get("account_no"),
		BankBranch: f.Get("bank_branch"), Reserved: PayoutReserve(amount, cc), PaymentType: orderPaymentType(m, nil), CreatedAt: now}, nil
}

// orderPaymentType is the channel an order's callback names (when its merchant's
// dialect sends one): the merchant account's payment_type, else the channel of the
// deposit's bank_code or pay_method (OrderChannel), else bank.
func orderPaymentType(m *Merchant, o *Order) string {
	if m.PaymentType != "" {
		return m.PaymentType
	}
	if o != nil {
		if c := OrderChannel(o.BankCode, o.PayMethod); c != "" {
			return c
		}
	}
	return PaymentTypeBank
}

// bankOptional reports whether a deposit may leave out bank_id although its currency
// names banks: a THB TrueMoney deposit under truemoney_bank_id: optional (docs/fidelity.md, family).
func bankOptional(f Form, d Dialect) bool {
	return f.Get("currency") == "THB" && f.Get("pay_method") == PayMethodTrueMoney && d.Is(SwitchTrueMoneyBankID, ValueOptional)
}

// Allows reports whether an amount is within the currency's per-order limits.
func (c Currency) Allows(amount Money) bool { return amount > 0 && amount >= c.Min && amount <= c.Max }
