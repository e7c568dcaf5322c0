package gateway

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Dialects: the gateway family (Vpay88, FPay, One1Pay, SuperRich) answers the same
// endpoints in slightly different ways (docs/fidelity.md). Each difference is one named
// switch in switchTable, read by the handlers and the callback writer; the profiles
// document and observed are presets of the switches, and a merchant may override any
// of them (config `dialect:`, POST and PATCH /sandbox/api/merchants).

// Switch names one way the family's members answer differently.
type Switch string

// The switches, in the order of the README's table.
const (
	// SwitchContactFields: email and phone_number on generate_orders.
	SwitchContactFields Switch = "contact_fields"
	// SwitchMYRPayoutBanks: the MYR withdraw_bank_list and the banks payouts take.
	SwitchMYRPayoutBanks Switch = "myr_payout_banks"
	// SwitchPaymentType: whether callbacks carry payment_type, and in which words.
	SwitchPaymentType Switch = "payment_type"
	// SwitchCallbackUsername: callbacks carry the merchant account's username.
	SwitchCallbackUsername Switch = "callback_username"
	// SwitchCallbackAmount: a callback's amount as a JSON number or string.
	SwitchCallbackAmount Switch = "callback_amount"
	// SwitchWithdrawOrderID: withdraw_orders answers carry withdraw_order_id.
	SwitchWithdrawOrderID Switch = "withdraw_order_id"
	// SwitchPendingStatus: check_status of a pending order.
	SwitchPendingStatus Switch = "pending_status"
	// SwitchCallbackBody: the callback body as JSON or as a form field json=<JSON>.
	SwitchCallbackBody Switch = "callback_body"
	// SwitchPayoutCallbackURL: a separate callback URL for payouts ("" is the
	// merchant's callback_url).
	SwitchPayoutCallbackURL Switch = "payout_callback_url"
	// SwitchTrueMoneyBankID: whether a THB pay_method=truemoney deposit needs bank_id.
	SwitchTrueMoneyBankID Switch = "truemoney_bank_id"
)

// SwitchInfo describes one switch: its values, its value in each profile, and the
// evidence for it with its number of independent sources.
type SwitchInfo struct {
	Name Switch `json:"name"`
	// Values are the values it takes; nil for payout_callback_url, whose value is ""
	// or an http(s) URL.
	Values   []string `json:"values,omitempty"`
	Document string   `json:"document"`
	Observed string   `json:"observed"`
	// What says what the switch changes, Evidence what shows it, Sources how many
	// independent code bases do.
	What     string `json:"what"`
	Evidence string `json:"evidence"`
	Sources  int    `json:"sources"`
}

// Values of the switches.
const (
	ValueRequired    = "required"
	ValueOptional    = "optional"
	ValueConfigured  = "configured"
	ValueLive        = "live"
	ValueOff         = "off"
	ValueOn          = "on"
	ValueChannel     = "channel"
	ValueNumber      = "number"
	ValueString      = "string"
	ValuePending     = "pending"
	ValueStatusFalse = "status_false"
	ValueJSON        = "json"
	ValueForm        = "form"
)

var switchTable = []SwitchInfo{
	{SwitchContactFields, []string{ValueRequired, ValueOptional}, ValueRequired, ValueOptional,
		"email and phone_number on generate_orders: required (Params missing.) or optional (still checked when given)",
		"2 integrations never send them; 1 sends placeholders (docs/fidelity.md, observed)", 2},
	{SwitchMYRPayoutBanks, []string{ValueConfigured, ValueLive}, ValueConfigured, ValueLive,
		"the MYR withdraw_bank_list and the bank_ids payouts take: the configured list (ids from \"1\") or the live one (MAYBANK 246 … GXBANK 279)",
		"1 recorded live answer (docs/fidelity.md, observed)", 1},
	{SwitchPaymentType, []string{ValueOff, ValueChannel, ValueLive}, ValueOff, ValueLive,
		"callbacks' payment_type: absent (off; under document a merchant with a payment_type sends it as channel), the channel's name (bank, duitnow, ewallet) or the newest live word (Online Banking, QR, EWallet); a free word is sent as written",
		"1 per-channel merchant keys its secrets by it; words bank/duitnow/ewallet in its older code, Online Banking/QR/EWallet in its newest (docs/fidelity.md, family)", 1},
	{SwitchCallbackUsername, []string{ValueOff, ValueOn}, ValueOff, ValueOn,
		"callbacks carry username, the merchant account's username",
		"2 integrations; one finds the account (and its secret) by it and applies nothing without it (docs/fidelity.md, family)", 2},
	{SwitchCallbackAmount, []string{ValueNumber, ValueString}, ValueNumber, ValueString,
		"a callback's amount as a JSON number (the vendor's examples) or a JSON string (\"300.0000\")",
		"1 integration casts it with Java's (String); inferred from code (docs/fidelity.md, family)", 1},
	{SwitchWithdrawOrderID, []string{ValueOn, ValueOff}, ValueOn, ValueOn,
		"withdraw_orders' success answer carries withdraw_order_id, the gateway's payout reference (an addition)",
		"1 integration stores it (docs/fidelity.md, family)", 1},
	{SwitchPendingStatus, []string{ValuePending, ValueStatusFalse}, ValuePending, ValuePending,
		"check_status of a pending order: order_status pending, or {\"status\":false} alone",
		"1 integration reads {\"status\":false}; 2 read order_status pending (docs/fidelity.md, family)", 1},
	{SwitchCallbackBody, []string{ValueJSON, ValueForm}, ValueJSON, ValueJSON,
		"the callback body: JSON (application/json) or the form field json=<JSON> (application/x-www-form-urlencoded)",
		"1 handler strips a json= prefix; 3 parse plain JSON (docs/fidelity.md, family)", 1},
	{SwitchPayoutCallbackURL, nil, "", "",
		"payout callbacks go to this URL instead of callback_url (\"\": callback_url)",
		"1 integration has separate routes for deposits and payouts (weak; docs/fidelity.md, family)", 1},
	{SwitchTrueMoneyBankID, []string{ValueRequired, ValueOptional}, ValueRequired, ValueOptional,
		"a THB deposit with pay_method=truemoney: bank_id required (as every THB deposit) or not needed",
		"1 integration sends TrueMoney deposits without bank_id (docs/fidelity.md, family)", 1},
}

// numSwitches is the length of a Dialect.
const numSwitches = 10

var switchIndex = func() map[Switch]int {
	if len(switchTable) != numSwitches {
		panic("gateway: numSwitches is not the length of switchTable") // a build defect, caught by tests
	}
	m := make(map[Switch]int, numSwitches)
	for i, s := range switchTable {
		m[s.Name] = i
	}
	return m
}()

// Switches returns the switch table (a copy).
func Switches() []SwitchInfo {
	out := slices.Clone(switchTable)
	for i := range out {
		out[i].Values = slices.Clone(out[i].Values)
	}
	return out
}

// Dialect is the effective value of every switch for one merchant. The zero Dialect
// is the document profile's: an unset value reads as the document's.
type Dialect [numSwitches]string

// Get returns the value of a switch.
func (d Dialect) Get(s Switch) string {
	i, ok := switchIndex[s]
	if !ok {
		return ""
	}
	if d[i] == "" {
		return switchTable[i].Document
	}
	return d[i]
}

// Is reports whether switch s has value v.
func (d Dialect) Is(s Switch, v string) bool { return d.Get(s) == v }

// Map returns the dialect as switch name → value, every switch named.
func (d Dialect) Map() map[string]string {
	out := make(map[string]string, numSwitches)
	for _, s := range switchTable {
		out[string(s.Name)] = d.Get(s.Name)
	}
	return out
}

// Preset returns the profile's value of every switch.
func (p Profile) Preset() Dialect {
	var d Dialect
	for i, s := range switchTable {
		if p == ProfileObserved {
			d[i] = s.Observed
		} else {
			d[i] = s.Document
		}
	}
	return d
}

// ResolveDialect is a merchant's effective dialect: the profile's preset, the
// merchant's overrides over it. A merchant account configured with a payment_type
// under a profile that sends none sends it as the channel's name (docs/fidelity.md, family: "under
// document as the channel's name"), unless its dialect says otherwise.
func ResolveDialect(p Profile, overrides map[string]string, paymentType string) Dialect {
	d := p.Preset()
	if paymentType != "" && d.Is(SwitchPaymentType, ValueOff) {
		d[switchIndex[SwitchPaymentType]] = ValueChannel
	}
	for k, v := range overrides {
		if i, ok := switchIndex[Switch(k)]; ok {
			d[i] = v
		}
	}
	return d
}

// Dialect is the merchant's effective dialect under the sandbox's profile p: from the
// merchant's own profile when it has one.
func (m *Merchant) Dialect(p Profile) Dialect {
	if m.Profile != "" {
		p = m.Profile
	}
	return ResolveDialect(p, m.DialectOverrides, m.PaymentType)
}

// maxCallbackURL bounds a callback URL (callback_url, payout_callback_url) as redirect_url is.
const maxCallbackURL = 2048

// CheckDialect checks a merchant's overrides: known switches, known values (an
// http(s) URL of at most 2048 bytes for payout_callback_url). The error names the
// switch and what it takes.
func CheckDialect(overrides map[string]string) error {
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := overrides[k]
		i, ok := switchIndex[Switch(k)]
		if !ok {
			names := make([]string, len(switchTable))
			for j, s := range switchTable {
				names[j] = string(s.Name)
			}
			return fmt.Errorf("dialect: unknown switch %.64q (switches: %s)", k, strings.Join(names, ", "))
		}
		info := switchTable[i]
		if info.Values == nil {
			if err := CheckCallbackURL(v); err != nil {
				return fmt.Errorf("dialect.%s: %w", k, err)
			}
			continue
		}
		if !slices.Contains(info.Values, v) {
			return fmt.Errorf("dialect.%s: must be %s, not %.64q", k, strings.Join(info.Values, " or "), v)
		}
	}
	return nil
}

// CallbackURL is where the callbacks of an order of kind go for merchant m with
// dialect d: payout_callback_url for payouts when set, else callback_url.
func (d Dialect) CallbackURL(kind Kind, m *Merchant) string {
	if kind == KindWithdrawal {
		if u := d.Get(SwitchPayoutCallbackURL); u != "" {
			return u
		}
	}
	return m.CallbackURL
}

// Channels: a merchant account's payment_type names its channel, or is any word.
const (
	PaymentTypeBank    = "bank"
	PaymentTypeDuitNow = "duitnow"
	PaymentTypeEwallet = "ewallet"
)

// maxPaymentType bounds a free payment_type word.
const maxPaymentType = 32

// liveWords are the channels' words in the newest live integration (December 2025,
// docs/fidelity.md, family): it keys its per-channel secrets by them.
var liveWords = map[string]string{PaymentTypeBank: "Online Banking", PaymentTypeDuitNow: "QR", PaymentTypeEwallet: "EWallet"}

// LiveWord reports whether w is one of the channels' newest live words.
func LiveWord(w string) bool {
	for _, v := range liveWords {
		if v == w {
			return true
		}
	}
	return false
}

// ValidPaymentType reports whether t can be a merchant's payment_type: a channel
// name, or any word of 1–32 bytes, valid UTF-8 without control characters.
func ValidPaymentType(t string) bool {
	return t != "" && len(t) <= maxPaymentType && CheckField("payment_type", t) == nil && strings.TrimSpace(t) == t
}

// PaymentTypeWord is what a callback's payment_type says for a channel (or free
// word) under dialect d; "" when callbacks carry none.
func (d Dialect) PaymentTypeWord(channel string) string {
	switch d.Get(SwitchPaymentType) {
	case ValueOff:
		return ""
	case ValueLive:
		if w, ok := liveWords[channel]; ok {
			return w
		}
	}
	return channel
}

// bankCodeChannels maps the bank_code values of the newest live integration to the
// channel it counts them in (docs/fidelity.md, family: Tng, GrabPay, Boost are e-wallets; MayBankQR,
// DuitNowQR are QR); every other bank_code is online banking.
var bankCodeChannels = map[string]string{
	"Tng": PaymentTypeEwallet, "GrabPay": PaymentTypeEwallet, "Boost": PaymentTypeEwallet,
	"MayBankQR": PaymentTypeDuitNow, "DuitNowQR": PaymentTypeDuitNow,
}

// payMethodChannels maps pay_method values (docs/fidelity.md, family) to channels.
var payMethodChannels = map[string]string{
	PayMethodThaiQR: PaymentTypeDuitNow, PayMethodDuitNowQR: PaymentTypeDuitNow,
	PayMethodTrueMoney: PaymentTypeEwallet, PayMethodOnlineBanking: PaymentTypeBank,
}

// The pay_method values integrations send on generate_orders (docs/fidelity.md, family).
const (
	PayMethodThaiQR        = "thaiqr"
	PayMethodTrueMoney     = "truemoney"
	PayMethodOnlineBanking = "online_banking"
	PayMethodDuitNowQR     = "duitnowqr"
)

// QRPayMethod reports whether a pay_method is paid by scanning a QR code.
func QRPayMethod(m string) bool { return m == PayMethodThaiQR || m == PayMethodDuitNowQR }

// OrderChannel is the channel a deposit is paid through: its bank_code's (Tng →
// ewallet, DuitNowQR → duitnow), else its pay_method's, else "" (the merchant
// account's).
func OrderChannel(bankCode, payMethod string) string {
	if c, ok := bankCodeChannels[bankCode]; ok {
		return c
	}
	if bankCode != "" {
		return PaymentTypeBank
	}
	return payMethodChannels[payMethod]
}

// ChannelLabel is how the checkout page names a channel.
func ChannelLabel(channel string) string {
	switch channel {
	case PaymentTypeBank:
		return "Online banking"
	case PaymentTypeDuitNow:
		return "QR"
	case PaymentTypeEwallet:
		return "E-wallet"
	}
	return channel
}
