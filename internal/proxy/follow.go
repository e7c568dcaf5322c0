package proxy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
)

// Following the target: the shadow is there to show how the sandbox would answer the
// same conversation, and a conversation goes on from what the target answered. So,
// after an exchange's comparison:
//
//   - an order the target accepted and the shadow refused (the target's limits or
//     banks differ, say) is created in the shadow's store as the target took it, so
//     its later requests are compared as usual. A deposit always can be; a payout
//     reserves its amount and fee from the shadow's balance in the same transaction
//     that stores it (store.CreateWithdrawal), so the ledger stays whole, and when
//     that balance cannot cover it the payout is not created: topping the balance up
//     would be an admin_set the target's ledger never had, and Store.SetBalance sets
//     an absolute value, which a settlement of another payout committed in between
//     would be lost to. That order then stays apart as below.
//   - an order a status check shows final at the target (completed, fail, rejected)
//     and pending in the shadow is settled in the shadow to the target's status,
//     through the shadow's admin API, so the next check compares like for like.
//   - an order the shadow accepted and the target refused stays apart: the target
//     holds no such order, the shadow cannot unmake one, and its later requests are
//     not compared.
//
// A forced order gets no settlement timer: it waits for the target's outcome.

// followTarget does what the exchange calls for and says what it did ("" nothing).
func (sd *side) followTarget(ex *exchange, endpoint gateway.Endpoint, fields url.Values, tv, sv any) string {
	switch endpoint {
	case gateway.EndpointGenerateOrders, gateway.EndpointWithdrawOrders:
		return sd.followCreation(ex, endpoint, fields, tv, sv)
	case gateway.EndpointCheckStatus:
		return sd.followStatus(gateway.KindDeposit, fields, tv, sv)
	case gateway.EndpointCheckWithdrawStatus:
		return sd.followStatus(gateway.KindWithdrawal, fields, tv, sv)
	}
	return ""
}

// followCreation handles an order the two sides did not both accept or both refuse.
// The difference itself (status, message, p_url) is in the comparison.
func (sd *side) followCreation(ex *exchange, endpoint gateway.Endpoint, fields url.Values, tv, sv any) string {
	id := fields.Get("orderid")
	ts, ss := accepted(tv), accepted(sv)
	if id == "" || ts == ss {
		return ""
	}
	apart := func(why string) string {
		if _, seen := sd.diverged[id]; !seen {
			sd.diverged[id] = ex.seq
		}
		return fmt.Sprintf("order %s: %s: its later requests are not compared", id, why)
	}
	if !ts {
		return apart("the target refused it, the shadow accepted it")
	}
	var err error
	if endpoint == gateway.EndpointGenerateOrders {
		err = sd.forceDeposit(fields, tv)
	} else {
		err = sd.forceWithdrawal(fields)
	}
	switch {
	case errors.Is(err, store.ErrInsufficientBalance):
		return apart("the target accepted it, the shadow refused it and cannot follow: the shadow's balance does not cover its reserve")
	case errors.Is(err, store.ErrOrderExists):
		// The target now holds the order too: the two sides hold one each again.
		delete(sd.diverged, id)
		return fmt.Sprintf("order %s: the target accepted it, the shadow refused it; the shadow already holds an order of that id, which its later requests are compared with", id)
	case err != nil:
		return apart("the target accepted it, the shadow refused it and cannot follow (" + err.Error() + ")")
	}
	delete(sd.diverged, id)
	return fmt.Sprintf("order %s: the target accepted it, the shadow refused it; created in the shadow to follow the target", id)
}

// forceDeposit stores the deposit as the target took it, with the fields
// gateway.NewDeposit reads but none of its checks, and maps the target's p_url to the
// shadow's page for it.
func (sd *side) forceDeposit(f url.Values, tv any) error {
	m := sd.sb.Config.MerchantList()[0]
	amount, err := gateway.ParseMoney(f.Get("amount"))
	if err != nil {
		return fmt.Errorf("amount %q is no decimal", f.Get("amount"))
	}
	cur := f.Get("currency")
	o := &gateway.Order{Kind: gateway.KindDeposit, Merchant: m.Username, OrderID: f.Get("orderid"), Amount: amount,
		Currency: cur, Status: gateway.StatusPending, Customer: f.Get("username"), Email: f.Get("email"),
		Phone: f.Get("phone_number"), BankCode: f.Get("bank_code"), CustomerHolderName: f.Get("customer_bank_holder_name"),
		PaymentType: paymentType(sd.profile, m), CreatedAt: sd.sb.Store.Now(), Key: pageKey()}
	if cur == "MYR" {
		o.Mode, o.RedirectURL = f.Get("mode"), f.Get("redirect_url")
	}
	if gateway.NeedsBank(cur) {
		o.BankID, o.BankName = f.Get("bank_id"), bankName(sd.sb.Config.BankList(cur), f.Get("bank_id"))
	}
	if err := sd.sb.Store.CreateDeposit(o); err != nil {
		return err
	}
	sd.s.p.red.Add(o.Key)
	if tm, ok := tv.(map[string]any); ok {
		if t, ok := tm["p_url"].(string); ok {
			// The sandbox's p_url (server.payURL) for the order just stored.
			sd.mapPURL(t, sd.sb.URL+"/checkout/order-pay/"+strconv.FormatUint(o.Number, 10)+"/?pay_for_order=true&key="+o.Key)
		}
	}
	return nil
}

// forceWithdrawal stores the payout as the target took it, its reserve (amount plus
// the shadow's payout fee) moved from available to reserved in the same transaction.
func (sd *side) forceWithdrawal(f url.Values) error {
	m := sd.sb.Config.MerchantList()[0]
	amount, err := gateway.ParseMoney(f.Get("amount"))
	if err != nil {
		return fmt.Errorf("amount %q is no decimal", f.Get("amount"))
	}
	cur := f.Get("currency")
	cc, _ := m.Currency(cur)
	banks := m.Dialect(sd.profile).WithdrawalBanks(cur, sd.sb.Config.BankList(cur))
	o := &gateway.Order{Kind: gateway.KindWithdrawal, Merchant: m.Username, OrderID: f.Get("orderid"), Amount: amount,
		Currency: cur, Status: gateway.StatusPending, BankID: f.Get("bank_id"), BankName: bankName(banks, f.Get("bank_id")),
		HolderName: f.Get("holder_name"), AccountNo: f.Get("account_no"), BankBranch: f.Get("bank_branch"),
		Reserved: gateway.PayoutReserve(amount, cc), PaymentType: paymentType(sd.profile, m), CreatedAt: sd.sb.Store.Now()}
	return sd.sb.Store.CreateWithdrawal(o)
}

// followStatus settles the shadow's pending order to the final status the target
// reports for it.
func (sd *side) followStatus(kind gateway.Kind, f url.Values, tv, sv any) string {
	id := f.Get("id")
	tm, _ := tv.(map[string]any)
	sm, _ := sv.(map[string]any)
	if id == "" || !accepted(tv) || !accepted(sv) || sm["order_status"] != string(gateway.StatusPending) {
		return ""
	}
	status, _ := tm["order_status"].(string)
	switch gateway.Status(status) {
	case gateway.StatusCompleted, gateway.StatusFail:
	case gateway.StatusRejected:
		if kind != gateway.KindWithdrawal {
			return ""
		}
	default:
		return "" // pending, or a status the sandbox has no outcome for
	}
	settled, err := sd.settle(kind, id, status)
	switch {
	case err != nil:
		return fmt.Sprintf("order %s: the target's is %s, the shadow's pending; settling it in the shadow failed: %v", id, status, err)
	case !settled:
		return "" // the shadow settled it itself meanwhile
	}
	return fmt.Sprintf("order %s: the target's is %s, the shadow's was pending; settled in the shadow to follow the target", id, status)
}

// settle asks the side's admin API to settle an order (POST
// /sandbox/api/{deposits,withdrawals}/{id}/settle), which books the balance and
// sends the callback as any settlement does. false without an error: it was
// settled already.
func (sd *side) settle(kind gateway.Kind, id, status string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sd.s.p.o.ShadowTimeout)
	defer cancel()
	form := url.Values{"outcome": {status}, "merchant": {sd.sb.Username}}
	u := sd.sb.URL + "/sandbox/api/" + string(kind) + "s/" + url.PathEscape(id) + "/settle"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := sd.s.hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusConflict:
		return false, nil
	}
	return false, fmt.Errorf("admin settle: %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

// paymentType is the channel a payout's callback names for the merchant (whether and
// how it is sent is the merchant's dialect's), as gateway.NewWithdrawal sets it.
func paymentType(_ gateway.Profile, m gateway.Merchant) string {
	return firstOf(m.PaymentType, gateway.PaymentTypeBank)
}

func bankName(banks []gateway.Bank, id string) string {
	for _, b := range banks {
		if b.ID == id {
			return b.Name
		}
	}
	return ""
}

// pageKey is a checkout page key like the sandbox's own: 16 letters and digits.
func pageKey() string {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}
