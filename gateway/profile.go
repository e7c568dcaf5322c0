package gateway

import (
	"fmt"
	"slices"
)

// Profile is which gateway the sandbox imitates where the vendor document and live
// integrations disagree (docs/fidelity.md, observed): a preset of the dialect switches (dialect.go), over
// which a merchant may set its own. Additions that break no client of the document
// (auth's order_id, extra request fields, reversals, "Bank Maintenance.", get_balance)
// are in both profiles; a profile changes only what conflicts with the document.
type Profile string

// The two profiles.
const (
	// ProfileDocument answers exactly as the vendor document says: the default.
	ProfileDocument Profile = "document"
	// ProfileObserved answers as live integrations of the same gateway family show the
	// gateway answering: email and phone_number optional on generate_orders, the live
	// MYR withdrawal bank list, payment_type in callbacks.
	ProfileObserved Profile = "observed"
)

// ParseProfile reads a profile name; "" is the document profile.
func ParseProfile(s string) (Profile, error) {
	switch Profile(s) {
	case "", ProfileDocument:
		return ProfileDocument, nil
	case ProfileObserved:
		return ProfileObserved, nil
	}
	return "", fmt.Errorf("profile must be document or observed, not %q", s)
}

// liveMYRWithdrawalBanks is the MYR withdraw_bank_list answer as one live integration
// recorded it (docs/fidelity.md, observed): ids are JSON strings from "246", and the names and their
// misspellings ("AI-RAHJI BANK", "ALIIANCE BANK") are the gateway's own.
var liveMYRWithdrawalBanks = []Bank{
	{"MYR", "MAYBANK", "246"}, {"MYR", "CIMB", "261"}, {"MYR", "HLB", "264"}, {"MYR", "PUBLIC BANK", "273"},
	{"MYR", "RHB", "274"}, {"MYR", "AMBANK", "250"}, {"MYR", "Standard Chartered Bank", "275"},
	{"MYR", "BANK ISLAM", "251"}, {"MYR", "BSN", "257"}, {"MYR", "AI-RAHJI BANK", "248"}, {"MYR", "UOB", "277"},
	{"MYR", "HSBC", "265"}, {"MYR", "ALIIANCE BANK", "249"}, {"MYR", "CITI BANK", "262"}, {"MYR", "AFFIN BANK", "247"},
	{"MYR", "Bank Rakyat", "252"}, {"MYR", "TOUCH N GO", "278"}, {"MYR", "GXBANK", "279"},
}

// WithdrawalBanks returns the payout bank list of a currency under the dialect: the
// live MYR list under myr_payout_banks: live, else the configured one.
func (d Dialect) WithdrawalBanks(currency string, configured []Bank) []Bank {
	if d.Is(SwitchMYRPayoutBanks, ValueLive) && currency == "MYR" {
		return slices.Clone(liveMYRWithdrawalBanks)
	}
	return configured
}
