package gateway_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

var testMerchant = &gateway.Merchant{Username: "m", Currencies: []gateway.Currency{
	myr, {Code: "THB", Min: gateway.MustMoney("1"), Max: gateway.MustMoney("1000"), PayoutFee: gateway.MustMoney("5")}}}

func testBanks(cur, id string) (gateway.Bank, bool) {
	if id == "1" {
		return gateway.Bank{ID: "1", Currency: cur, Name: "Maybank"}, true
	}
	return gateway.Bank{}, false
}

func form(base url.Values, changes ...string) url.Values {
	f := url.Values{}
	for k, v := range base {
		f[k] = v
	}
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "<del>" {
			f.Del(changes[i])
		} else {
			f.Set(changes[i], changes[i+1])
		}
	}
	return f
}

// TestNewDeposit: generate_orders' checks after the token, first failing check wins,
// each with the vendor's message.
func TestNewDeposit(t *testing.T) {
	ok := url.Values{"username": {"john"}, "auth": {"tok"}, "amount": {"100"}, "currency": {"MYR"},
		"orderid": {"D-1"}, "email": {"john@example.com"}, "phone_number": {"601012456789"}}
	for _, tc := range []struct {
		name string
		f    url.Values
		want string // "" : accepted
	}{
		{"OK", ok, ""},
		{"CurrencyNotEnabled", form(ok, "currency", "EUR"), gateway.MsgCurrencyInvalid},
		{"AmountNotPlain", form(ok, "amount", "1e3"), gateway.MsgInvalidAmount},
		{"AmountAboveMax", form(ok, "amount", "50000.0001"), gateway.MsgInvalidAmount},
		{"AmountBeforeEmail", form(ok, "amount", "0", "email", "bad"), gateway.MsgInvalidAmount},
		{"Email", form(ok, "email", "john@"), gateway.MsgEmailIncorrect},
		{"PhoneTooLong", form(ok, "phone_number", strings.Repeat("1", 33)), gateway.MsgParamsIncorrectDot},
		{"TelcoMode", form(ok, "mode", "DIGI"), ""},
		{"UnknownMode", form(ok, "mode", "VODA"), gateway.MsgParamsIncorrectDot},
		{"ModeIgnoredOutsideMYR", form(ok, "currency", "THB", "bank_id", "1", "mode", "VODA"), ""},
		{"UnknownBank", form(ok, "currency", "THB", "bank_id", "99"), gateway.MsgBankIDInvalid},
		{"OrderIDTooLong", form(ok, "orderid", strings.Repeat("x", 129)), gateway.MsgOrderIDExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := gateway.NewDeposit(tc.f, testMerchant, testBanks, time.Unix(0, 0))
			if tc.want != "" {
				require.Error(t, err)
				assert.Equal(t, tc.want, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, gateway.StatusPending, o.Status)
			assert.Equal(t, tc.f.Get("orderid"), o.OrderID)
		})
	}
	assert.EqualError(t, gateway.RequireDeposit(form(ok, "email", "<del>")), gateway.MsgParamsMissing)
	assert.EqualError(t, gateway.RequireDeposit(form(ok, "currency", "THB")), gateway.MsgParamsMissing, "THB needs bank_id")
	assert.NoError(t, gateway.RequireDeposit(ok))
}

func TestNewWithdrawal(t *testing.T) {
	ok := url.Values{"auth": {"tok"}, "amount": {"100"}, "currency": {"MYR"}, "orderid": {"W-1"}, "bank_id": {"1"},
		"holder_name": {"John Doe"}, "account_no": {"12332343432"}}
	for _, tc := range []struct {
		name string
		f    url.Values
		want string
	}{
		{"OK", ok, ""},
		{"HolderControlChar", form(ok, "holder_name", "John\x00"), gateway.MsgParamsIncorrect},
		{"CurrencyNotEnabledIsAnAmountError", form(ok, "currency", "VND"), gateway.MsgAmountInvalid},
		{"AmountNegative", form(ok, "amount", "-1"), gateway.MsgAmountInvalid},
		{"Bank", form(ok, "bank_id", "7"), gateway.MsgBankIDInvalid},
		{"OrderIDTooLong", form(ok, "orderid", strings.Repeat("x", 40000)), gateway.MsgOrderIDExistWithdrawal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := gateway.NewWithdrawal(tc.f, testMerchant, testBanks, time.Unix(0, 0))
			if tc.want != "" {
				require.Error(t, err)
				assert.Equal(t, tc.want, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "105.0000", o.Reserved.String(), "amount plus the payout fee")
			assert.Equal(t, "Maybank", o.BankName)
		})
	}
	assert.EqualError(t, gateway.RequireWithdrawal(form(ok, "account_no", "")), gateway.MsgParamsMissing)
}
