package gateway

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind tells deposits from withdrawals; merchant order ids are unique per kind.
type Kind string

// The two kinds of order, spelled as the callback's "type" field spells them.
const (
	KindDeposit    Kind = "deposit"
	KindWithdrawal Kind = "withdrawal"
)

// Status is an order's state, spelled as check_status answers it.
type Status string

// The three statuses of the vendor's check_status examples.
const (
	StatusPending   Status = "pending"
	StatusCompleted Status = "completed"
	StatusFail      Status = "fail"
	// StatusRejected is a payout refused by the bank, a status integrations of this
	// gateway family handle; only scenario rules and the admin API produce it.
	StatusRejected Status = "rejected"
)

// DateTimeLayout is the vendor's order_datetime format ("2021-11-18 15:00:00").
const DateTimeLayout = "2006-01-02 15:04:05"

// Currency is one currency enabled for a merchant, with its limits and fees.
type Currency struct {
	Code string `json:"currency" yaml:"code,omitempty"`
	Min  Money  `json:"min" yaml:"min,omitempty"`
	Max  Money  `json:"max" yaml:"max,omitempty"`
	// DepositChargePercent is taken from a completed deposit (vendor: 300 → 9.0000, 3%).
	DepositChargePercent Money `json:"deposit_charge_percent" yaml:"deposit_charge_percent,omitempty"`
	// PayoutFee is a fixed fee per completed withdrawal (vendor: "5.00").
	PayoutFee Money `json:"payout_fee" yaml:"payout_fee,omitempty"`
	// StartBalance is the balance a fresh or reset sandbox gives the merchant.
	StartBalance Money `json:"start_balance" yaml:"start_balance,omitempty"`
	// Banks, when set, replace the configured bank list of this currency for this
	// merchant: white labels number their banks their own way (SuperRich THB 106…158,
	// FPay BDT 800; docs/fidelity.md, family). Bank lists, bank_id checks, the checkout page and payouts
	// use them.
	Banks []Bank `json:"banks,omitempty" yaml:"banks,omitempty"`
}

// Bank is one entry of a bank list; ids are strings, numbered from "1" per currency
// unless the config or the merchant gives them ("800", "106").
type Bank struct {
	Currency string `json:"currency" yaml:"-"`
	Name     string `json:"bank_name" yaml:"name"`
	ID       string `json:"id" yaml:"id"`
}

// Merchant is a merchant account with its three credentials.
type Merchant struct {
	Username string `json:"username"`
	// Aliases are other usernames that name the same merchant on the lookup endpoints:
	// the vendor's own examples spell the test merchant both "vpay88-test" and
	// "vpay88_test".
	Aliases     []string   `json:"aliases,omitempty"`
	APIKey      string     `json:"-"`
	SecretKey   string     `json:"-"`
	CallbackURL string     `json:"callback_url"`
	Currencies  []Currency `json:"currencies"`
	// PaymentType is the channel of this merchant account (bank, duitnow, ewallet):
	// live merchants run one account per channel, and under the observed profile the
	// callbacks carry it (docs/fidelity.md, observed).
	PaymentType string `json:"payment_type,omitempty"`
	// Profile, when set, is the merchant's own profile (document or observed), whose
	// preset its dialect starts from instead of the sandbox's: one sandbox serves
	// integrations of several members of the family.
	Profile Profile `json:"profile,omitempty"`
	// DialectOverrides are the merchant's own values of dialect switches (Switches),
	// over its profile's preset.
	DialectOverrides map[string]string `json:"dialect,omitempty"`
}

// Currency returns the merchant's settings for code, if enabled.
func (m *Merchant) Currency(code string) (Currency, bool) {
	for _, c := range m.Currencies {
		if c.Code == code {
			return c, true
		}
	}
	return Currency{}, false
}

// Order is a deposit or a withdrawal as the sandbox keeps it.
type Order struct {
	Kind     Kind   `json:"kind"`
	Merchant string `json:"merchant"`
	OrderID  string `json:"order_id"`
	// Number is the gateway's own order number, the <number> of p_url.
	Number   uint64 `json:"number"`
	Key      string `json:"key,omitempty"`
	Amount   Money  `json:"amount"`
	Currency string `json:"currency"`
	Status   Status `json:"status"`

	// Deposit fields.
	Customer    string `json:"customer,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone_number,omitempty"`
	Mode        string `json:"mode,omitempty"`
	RedirectURL string `json:"redirect_url,omitempty"`
	// BankCode and CustomerHolderName are what live integrations send beside the
	// document's fields (bank_code "MayBank", "DuitNowQR"…; customer_bank_holder_name):
	// stored and shown; the holder name is the payer's name by default (docs/fidelity.md, observed).
	BankCode           string `json:"bank_code,omitempty"`
	CustomerHolderName string `json:"customer_bank_holder_name,omitempty"`
	// PaymentType is the channel (or free word) the order's callback names, when its
	// merchant's dialect sends one: the merchant account's, else the channel of its
	// bank_code or pay_method, else bank.
	PaymentType string `json:"payment_type,omitempty"`
	// PayMethod is generate_orders' pay_method (thaiqr, truemoney, online_banking,
	// duitnowqr; docs/fidelity.md, family); CustomerBankAccount, RequestCallbackURL and APIKeySent are
	// fields integrations send beside the document's, stored and shown.
	PayMethod           string `json:"pay_method,omitempty"`
	CustomerBankAccount string `json:"customer_bank_account,omitempty"`
	RequestCallbackURL  string `json:"request_callback_url,omitempty"`
	APIKeySent          bool   `json:"api_key_sent,omitempty"`
	// PaidAmount, when set on a completed deposit, is what the customer paid instead
	// of Amount (a scenario's paid_amount, the checkout page, the admin settle): the
	// callback carries it, the ledger credits it minus its charge, check_status
	// answers it.
	PaidAmount Money `json:"paid_amount,omitempty"`

	// Bank for THB/IDR deposits and for withdrawals.
	BankID   string `json:"bank_id,omitempty"`
	BankName string `json:"bank_name,omitempty"`

	// Withdrawal fields.
	HolderName string `json:"holder_name,omitempty"`
	AccountNo  string `json:"account_no,omitempty"`
	BankBranch string `json:"bank_branch,omitempty"`
	// Reserved is what an accepted withdrawal holds back: amount plus payout fee.
	Reserved Money `json:"reserved,omitempty"`

	// Settlement.
	Charge    Money     `json:"charge"`
	PayerName string    `json:"name,omitempty"`
	Remarks   string    `json:"remarks,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	SettledAt time.Time `json:"settled_at,omitzero"`
	// SettleAt, when set on a pending order, is when a scheduled outcome applies.
	SettleAt      time.Time `json:"settle_at,omitzero"`
	SettleOutcome *Outcome  `json:"settle_outcome,omitempty"`
	// ReverseAfter, set by a rule's reverse_after, schedules a reversal that long
	// after the order settles; ReverseAt is when, once it has settled.
	ReverseAfter Duration  `json:"reverse_after,omitempty"`
	ReverseAt    time.Time `json:"reverse_at,omitzero"`
	// Reversals counts how often a settled order took the other final status
	// (Reverse); ReversedAt is the last time.
	Reversals  int       `json:"reversals,omitempty"`
	ReversedAt time.Time `json:"reversed_at,omitzero"`
	// Faults and Rule come from the scenario that matched the order at creation; the
	// faults apply to its callback whoever settles it.
	Faults *CallbackFaults `json:"callback_faults,omitempty"`
	Rule   string          `json:"scenario,omitempty"`
}

// CallbackFaults alter the delivery of an order's callback (scenario rules).
type CallbackFaults struct {
	// Duplicate delivers the callback this many extra times.
	Duplicate int `yaml:"duplicate,omitempty" json:"duplicate,omitempty"`
	// Delay holds every delivery of the callback back by this long.
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	// Drop never sends the callback; it is recorded as dropped.
	Drop bool `yaml:"drop,omitempty" json:"drop,omitempty"`
	// WrongToken sends a token that does not verify.
	WrongToken bool `yaml:"wrong_token,omitempty" json:"wrong_token,omitempty"`
	// OutOfOrder holds the callback back (by Delay, or 2 s) so that callbacks of
	// orders settled after it reach the merchant first.
	OutOfOrder bool `yaml:"out_of_order,omitempty" json:"out_of_order,omitempty"`
}

// IsZero reports whether no fault is set.
func (f *CallbackFaults) IsZero() bool { return f == nil || *f == (CallbackFaults{}) }

// Settled reports whether the order reached a final status; a settled order never
// changes again.
func (o *Order) Settled() bool { return o.Status != StatusPending && o.Status != "" }

// Outcome is how an order settles: by a click, a magic value, a rule or the admin API.
type Outcome struct {
	// Kind is the outcome; its JSON name is "status", as in files written before
	// outcomes had a type of their own.
	Kind    OutcomeKind `json:"status"`
	Remarks string      `json:"remarks,omitempty"`
	Name    string      `json:"name,omitempty"`
	// Charge overrides the deposit charge or payout fee when set.
	Charge *Money `json:"charge,omitempty"`
	// Source says what chose the outcome: "checkout", "admin", a rule's name, a magic value.
	Source string `json:"source,omitempty"`
	// Paid, on a completed deposit, is what the customer paid instead of the amount.
	Paid *PaidSpec `json:"paid_amount,omitempty"`
}

// Token is the callback token: lowercase hex MD5 of secret key + merchant order id
// (vendor: 令牌将会使用MD5("密钥" + 代理商订单号)).
func Token(secretKey, orderID string) string {
	sum := md5.Sum([]byte(secretKey + orderID))
	return hex.EncodeToString(sum[:])
}

// CheckCallbackURL is the one rule a merchant's callback URL follows, wherever it is
// given (the config file, --callback-url, the merchants API): empty (no callbacks, each
// recorded as dropped) or an absolute http or https URL with a host. "localhost:9000/cb"
// or "app:8080/cb" would otherwise be accepted and every callback would fail for the
// whole retry schedule; the error shows the form that works.
//
// It is at most 2048 bytes, valid UTF-8 without control characters, as the vendor
// fields are (CheckField).
func CheckCallbackURL(raw string) error {
	if raw == "" {
		return nil
	}
	if len(raw) > maxCallbackURL {
		return fmt.Errorf("a callback URL has at most %d bytes, not %d", maxCallbackURL, len(raw))
	}
	if err := CheckField("callback_url", raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("must be an http or https URL such as http://127.0.0.1:9000/callback, not %.64q", raw)
	}
	return nil
}

// ValidEmail is the sandbox's reading of "email incorrect.": one @, a non-empty local
// part, a domain with a dot, no spaces or display names.
func ValidEmail(s string) bool {
	if strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// NameMismatchRemarks is the vendor's failure text for a payout whose holder name does
// not match the bank's record: "Account Holder Name Mismatch (MR SUK THA != SUK THAWAR)",
// where the callback's name is "SUK THAWAR": the bank's record first, the holder_name
// the merchant sent second.
func NameMismatchRemarks(onRecord, given string) string {
	return "Account Holder Name Mismatch (" + onRecord + " != " + given + ")"
}

// BankRecordName invents the bank's record of a holder name that does not match: the
// vendor's example pairs "SUK THAWAR" with "MR SUK THA", a title and a truncated name.
func BankRecordName(holder string) string {
	n := strings.ToUpper(strings.TrimSpace(holder))
	if r := []rune(n); len(r) > 7 {
		n = strings.TrimSpace(string(r[:len(r)-3]))
	}
	return "MR " + n
}

// Duration is a time.Duration written as "1.5s" or "2m" in YAML and JSON.
type Duration time.Duration

// UnmarshalText reads a Go duration string, or a whole number of days ("30d", the
// natural unit of a retention period, which Go's durations do not have).
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if days, ok := strings.CutSuffix(s, "d"); ok && days != "" && strings.Trim(days, "0123456789") == "" && len(days) <= 5 {
		n, _ := strconv.Atoi(days)
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration (use 500ms, 2s, 1m, 30d): %q", b)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
