package client

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// maxCallbackBytes caps a callback body; the vendor's are about 300 bytes.
const maxCallbackBytes = 64 << 10

// Callback is what the gateway POSTs when an order settles, deposit or withdrawal
// (the vendor's "callback接口" examples).
type Callback struct {
	// OrderID is the merchant's order id.
	OrderID string `json:"order_id"`
	// Amount is a number in the vendor's examples (300.0000, 1); members of the
	// family that quote it ("300.0000", callback_amount: string) are read alike.
	Amount   gateway.Money `json:"amount"`
	Currency string        `json:"currency"`
	// OrderStatus is "completed" or "fail".
	OrderStatus gateway.Status `json:"order_status"`
	// Status is true on every callback the vendor shows, failures included.
	Status bool `json:"status"`
	// Charge is a string in the vendor's examples, with four places on deposits
	// ("9.0000"), two on payouts ("5.00") and "0" on a failed payout; ChargeMoney
	// reads it.
	Charge string `json:"charge"`
	Token  string `json:"token"`
	// Name is the payer (deposit) or the account holder on record (withdrawal).
	Name string       `json:"name"`
	Type gateway.Kind `json:"type"`
	// Remarks is withdrawals only: "Success" or the failure reason.
	Remarks string `json:"remarks"`
	// PaymentType is the channel of the merchant account the order went through
	// (bank, duitnow, ewallet): live callbacks carry it, the vendor document does not
	// (docs/fidelity.md, observed). Merchants that run one account per channel pick the secret that
	// verifies the token by it: VerifyCallbackWith, SecretsByPaymentType.
	PaymentType string `json:"payment_type"`
	// Username is the merchant account's username, which members of the family send
	// (callback_username: on, docs/fidelity.md, family); merchants find the account by it.
	Username string `json:"username"`
}

// ChargeMoney reads Charge as exact money; an absent charge (the vendor's failed
// deposit example has one, others may not) is zero.
func (cb *Callback) ChargeMoney() (gateway.Money, error) {
	if cb.Charge == "" {
		return 0, nil
	}
	var m gateway.Money
	err := m.UnmarshalJSON([]byte(cb.Charge))
	return m, err
}

// Completed reports whether the order succeeded.
func (cb *Callback) Completed() bool { return cb.OrderStatus == gateway.StatusCompleted }

// VerifyCallback decodes a callback body (trailing commas tolerated, as in the vendor's
// examples) and checks its token: lowercase hex md5(secret key + order id), the
// vendor's MD5("密钥" + 代理商订单号). It returns the decoded callback with
// ErrBadToken when only the token is wrong, so the caller can log what was claimed,
// and ErrBadCallback when the body is not a callback at all.
func VerifyCallback(body []byte, secret string) (*Callback, error) {
	return VerifyCallbackWith(body, func(string) (string, bool) { return secret, true })
}

// SecretFunc returns the secret key that verifies a callback of the given
// payment_type ("" when the callback carries none), and false when no merchant
// account of the caller's has that channel.
type SecretFunc func(paymentType string) (secret string, ok bool)

// SecretsByPaymentType is a SecretFunc over a map from payment_type to the secret key
// of that channel's merchant account, e.g. {"bank": "…", "duitnow": "…", "ewallet":
// "…"}. A callback without payment_type (the vendor document's, the sandbox's
// default profile) or with one the map lacks uses fallback; fallback "" refuses it.
func SecretsByPaymentType(secrets map[string]string, fallback string) SecretFunc {
	return func(paymentType string) (string, bool) {
		if s, ok := secrets[paymentType]; ok && paymentType != "" {
			return s, true
		}
		return fallback, fallback != ""
	}
}

// ErrUnknownPaymentType: a callback's payment_type names no merchant account whose
// secret the caller has (the SecretFunc said false). It is also an ErrBadToken: the
// token cannot be verified.
var ErrUnknownPaymentType = fmt.Errorf("%w: no secret for its payment_type", ErrBadToken)

// VerifyCallbackWith is VerifyCallback for merchants that run one account per
// channel, each with its own secret: secrets chooses the secret by the callback's
// payment_type. When it has none for it, the decoded callback is returned with
// ErrUnknownPaymentType (which is also ErrBadToken).
//
// A body sent as the form field json=<JSON> (callback_body: form, docs/fidelity.md, family) is read as
// its JSON.
func VerifyCallbackWith(body []byte, secrets SecretFunc) (*Callback, error) {
	body = formJSON(body)
	var cb Callback
	if err := Unmarshal(body, &cb); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCallback, err)
	}
	if cb.OrderID == "" {
		return nil, fmt.Errorf("%w: no order_id", ErrBadCallback)
	}
	secret, ok := secrets(cb.PaymentType)
	if !ok {
		return &cb, ErrUnknownPaymentType
	}
	want := gateway.Token(secret, cb.OrderID)
	// Case-folded: the vendor says MD5 without saying which hex case it prints.
	got := strings.ToLower(cb.Token)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &cb, ErrBadToken
	}
	return &cb, nil
}

// formJSON returns the JSON of a json=<JSON> form body, or body as it is.
func formJSON(body []byte) []byte {
	if !bytes.HasPrefix(body, []byte("json=")) {
		return body
	}
	v, err := url.ParseQuery(string(body))
	if err != nil || v.Get("json") == "" {
		return body
	}
	return []byte(v.Get("json"))
}

// CallbackFunc handles one verified callback. Returning an error makes the handler
// answer 500, so the gateway delivers the callback again later (delivery is
// at-least-once: the function must tolerate repeats, e.g. by order id).
type CallbackFunc func(ctx context.Context, cb *Callback) error

// CallbackHandler returns an http.Handler for the merchant's callback URL. It reads
// the POSTed JSON, verifies its token with secret and calls fn. It answers 200
// "success" (the answer the vendor's integrations give), 400 on a malformed body or a
// bad token (fn is not called), 405 on anything but POST, 500 when fn fails.
func CallbackHandler(secret string, fn CallbackFunc) http.Handler {
	return CallbackHandlerWith(func(string) (string, bool) { return secret, true }, fn)
}

// CallbackHandlerWith is CallbackHandler with the secret chosen by the callback's
// payment_type (VerifyCallbackWith); a callback whose payment_type has no secret is
// answered 400 like a bad token.
func CallbackHandlerWith(secrets SecretFunc, fn CallbackFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBytes))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		cb, err := VerifyCallbackWith(body, secrets)
		switch {
		case errors.Is(err, ErrBadToken):
			http.Error(w, "bad token", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "malformed callback", http.StatusBadRequest)
			return
		}
		if err := fn(r.Context(), cb); err != nil {
			http.Error(w, "callback not processed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "success")
	})
}
