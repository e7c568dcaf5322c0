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
			o, err := gateway.NewDeposit(tc.f, testMerchant, testBanks, gateway.ProfileDocument.Preset(), time.Unix(0, 0))
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
	doc := gateway.ProfileDocument.Preset()
	assert.EqualError(t, gateway.RequireDeposit(form(ok, "email", "<del>"), doc), gateway.MsgParamsMissing)
	assert.EqualError(t, gateway.RequireDeposit(form(ok, "currency", "THB"), doc), gateway.MsgParamsMissing, "THB needs bank_id")
	assert.NoError(t, gateway.RequireDeposit(ok, doc))
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

// TestObservedDeposit: under the observed profile a deposit may leave out email and
// phone_number (still checked when given), carries bank_code and the customer's bank
// holder name, and names its channel for the callback.
func TestObservedDeposit(t *testing.T) {
	obs := gateway.ProfileObserved.Preset()
	live := url.Values{"username": {"vpay88-test"}, "auth": {"tok"}, "amount": {"100"}, "currency": {"MYR"},
		"orderid": {"Abc123XyZ0000001"}, "bank_code": {"MayBank"}, "customer_bank_holder_name": {"Ali Bin Abu"},
		"api_key": {"EPSOWM0eewwrwer0OfUo"}}
	require.NoError(t, gateway.RequireDeposit(live, obs))
	assert.EqualError(t, gateway.RequireDeposit(live, gateway.ProfileDocument.Preset()), gateway.MsgParamsMissing)
	o, err := gateway.NewDeposit(live, testMerchant, testBanks, obs, time.Unix(0, 0))
	require.NoError(t, err)
	assert.Equal(t, "MayBank", o.BankCode)
	assert.Equal(t, "Ali Bin Abu", o.CustomerHolderName)
	assert.Equal(t, gateway.PaymentTypeBank, o.PaymentType)
	_, err = gateway.NewDeposit(form(live, "email", "not-an-email"), testMerchant, testBanks, obs, time.Unix(0, 0))
	assert.EqualError(t, err, gateway.MsgEmailIncorrect, "an email given is still checked")
	paid, err := gateway.Settle(*o, myr, gateway.Outcome{Kind: gateway.OutcomeCompleted}, "Generated Name")
	require.NoError(t, err)
	assert.Equal(t, "Ali Bin Abu", paid.PayerName, "the holder name is the payer by default")
	assert.Contains(t, string(obs.CallbackBody(&paid, testMerchant, "tok")), `"payment_type":"Online Banking"`)
	assert.NotContains(t, string(gateway.CallbackBody(&paid, "s")), `payment_type`, "the document's callbacks carry none")
	doc, err := gateway.NewDeposit(form(live, "email", "a@b.co", "phone_number", "1"), testMerchant, testBanks, gateway.ProfileDocument.Preset(), time.Unix(0, 0))
	require.NoError(t, err)
	assert.Equal(t, gateway.PaymentTypeBank, doc.PaymentType, "the channel is stored in both profiles")
}

func TestProfileBanks(t *testing.T) {
	configured := []gateway.Bank{{Currency: "MYR", Name: "Malayan Banking Berhad", ID: "1"}}
	live := gateway.ProfileObserved.Preset().WithdrawalBanks("MYR", configured)
	require.Len(t, live, 18)
	assert.Equal(t, gateway.Bank{Currency: "MYR", Name: "MAYBANK", ID: "246"}, live[0])
	assert.Equal(t, gateway.Bank{Currency: "MYR", Name: "GXBANK", ID: "279"}, live[17])
	assert.Equal(t, configured, gateway.ProfileDocument.Preset().WithdrawalBanks("MYR", configured))
	assert.Equal(t, configured, gateway.ProfileObserved.Preset().WithdrawalBanks("THB", configured))
	_, err := gateway.ParseProfile("live")
	assert.Error(t, err)
}
