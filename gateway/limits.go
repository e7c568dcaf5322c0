package gateway

import (
	"errors"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"
)

// FieldLimit is the longest value, in bytes, the sandbox takes for one request field.
// The vendor document gives no lengths; each limit is generous for real use (a
// merchant's order id, a customer's name, a bank account number) and small enough that
// no value can reach a bbolt key limit or fill the request journal (README, guessed
// behaviours).
type FieldLimit struct {
	Field    string
	MaxBytes int
}

// fieldLimitTable lists every field the sandbox reads, vendor fields first, then the
// admin API's and the checkout page's free-text fields.
var fieldLimitTable = []FieldLimit{
	{"orderid", 128},       // merchant order ids: "Example_123", "INV/2024/001", UUIDs
	{"id", 128},            // the order id of check_status / check_withdraw_status
	{"username", 255},      // a merchant, or the customer's name at the merchant
	{"api_key", 128},       // the vendor's example key has 20 characters
	{"secret_key", 128},    // a merchant's third credential (the sandbox makes 32 characters)
	{"auth", 64},           // the sandbox issues 20 characters
	{"amount", 32},         // 15 digits, a point and four decimals, with room to spare
	{"currency", 8},        // three to five letters or digits (MYR, USDT)
	{"email", 254},         // the longest address SMTP can carry (RFC 5321)
	{"phone_number", 32},   // E.164 is at most 15 digits
	{"mode", 16},           // DIGI, MAXIS, CELCOM
	{"redirect_url", 2048}, // what browsers and proxies carry without trouble
	{"bank_id", 16},        // "1" … "14"
	{"holder_name", 255},
	{"account_no", 64}, // IBANs have at most 34 characters
	{"bank_branch", 255},
	{"bank_code", 32},                  // live integrations: "MayBank", "DuitNowQR", "GrabPay"
	{"customer_bank_holder_name", 255}, // live integrations: the customer's name at the bank
	{"pay_method", 32},                 // thaiqr, truemoney, online_banking, duitnowqr
	{"customer_bank_account", 64},      // as account_no
	{"callback_url", 2048},             // generate_orders' (sent empty by one integration) and a merchant's
	{"payment_type", 32},               // a merchant account's channel or free word
	{"paid_amount", 32},                // as amount, or a percentage "90%"
	{"name", 255},                      // payer or holder name given on the checkout page or to the admin API
	{"remarks", 1024},                  // payout remarks given to the admin API
}

var fieldLimits = func() map[string]int {
	m := make(map[string]int, len(fieldLimitTable))
	for _, l := range fieldLimitTable {
		m[l.Field] = l.MaxBytes
	}
	return m
}()

// FieldLimits returns the limit of every field the sandbox reads (a copy).
func FieldLimits() []FieldLimit { return slices.Clone(fieldLimitTable) }

// MaxFieldBytes returns the limit of a field, 0 for a field the sandbox does not read.
func MaxFieldBytes(field string) int { return fieldLimits[field] }

// The reasons CheckField refuses a value.
var (
	ErrFieldTooLong = errors.New("longer than its limit")
	ErrFieldNotUTF8 = errors.New("not valid UTF-8")
	ErrFieldControl = errors.New("contains a control character")
)

// CheckField reports why value is not acceptable for field, or nil. Values must be
// valid UTF-8 with no control character (C0 including tab, DEL, C1): none of the
// vendor's fields (ids, names, numbers, keys, URLs) has a use for one, and each would
// reach the callback, the bank's remarks or a log line as it came. A field without a
// limit of its own is only checked for encoding. The empty value passes: whether a
// field is required is the endpoint's "Params missing." check.
func CheckField(field, value string) error {
	if max := fieldLimits[field]; max > 0 && len(value) > max {
		return fmt.Errorf("%s: %d bytes, %w of %d", field, len(value), ErrFieldTooLong, max)
	}
	if !utf8.ValidString(value) {
		return fmt.Errorf("%s: %w", field, ErrFieldNotUTF8)
	}
	for _, r := range value {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s: %w (%U)", field, ErrFieldControl, r)
		}
	}
	return nil
}
