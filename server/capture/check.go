package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/server/internal/cut"
)

// ---------------------------------------------------------------- the checks

// field is one top-level key of a captured body with its raw JSON value, in order.
type field struct {
	key string
	raw json.RawMessage
}

// callbackShape is one callback body the sandbox sends: its keys in order and the
// JSON type of each, read from the gateway's structs so the two cannot drift.
type callbackShape struct {
	name  string
	keys  []string
	types map[string]string
	// optional keys may be absent (payment_type: observed profile only).
	optional map[string]bool
}

var callbackShapes = map[string]callbackShape{
	"deposit":      shapeOf("deposit", gateway.DepositCallback{}),
	"deposit_fail": shapeOf("deposit_fail", gateway.FailedDepositCallback{}),
	"withdrawal":   shapeOf("withdrawal", gateway.WithdrawalCallback{}),
}

func shapeOf(name string, v any) callbackShape {
	sh := callbackShape{name: name, types: map[string]string{}, optional: map[string]bool{}}
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		sh.keys = append(sh.keys, tag)
		if strings.Contains(opts, "omitempty") {
			sh.optional[tag] = true
		}
		switch {
		case f.Type == reflect.TypeOf(gateway.CallbackAmount{}):
			sh.types[tag] = "number" // the document's; callback_amount: string quotes it
			continue
		}
		switch f.Type.Kind() {
		case reflect.Bool:
			sh.types[tag] = "boolean"
		case reflect.Int64, reflect.Int, reflect.Float64:
			sh.types[tag] = "number" // Number and PlainMoney
		default:
			sh.types[tag] = "string"
		}
	}
	return sh
}

// The formats a captured callback is checked against, compiled at the first check: a
// sandbox that never checks one (most) does not pay for them at start-up.
var (
	fourDecimals = lazyRegexp(`^[0-9]+\.[0-9]{4}$`)
	twoDecimals  = lazyRegexp(`^[0-9]+\.[0-9]{2}$`)
	plainNumber  = lazyRegexp(`^(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$`)
	currencyCode = lazyRegexp(`^[A-Z0-9]{3,5}$`)
	md5Hex       = lazyRegexp(`^[0-9a-f]{32}$`)
)

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// checkCallback compares a body with the callback the sandbox would send and returns
// the shape it was compared with, the merchant whose secret verified the token, and
// the findings.
func (l *Log) checkCallback(name, contentType string, body []byte) (shape, merchant string, fs []Finding, dialect map[string]string) {
	k := &callbackCheck{byKey: map[string]json.RawMessage{}, dialect: map[string]string{}}
	if !k.parse(contentType, body) {
		return "", "", k.fs, nil
	}
	k.pickShape()
	sh := callbackShapes[k.shape]
	k.checkKeys(sh)
	k.checkTypes(sh)
	k.checkFormats()
	k.checkValues()
	// The token: md5(secret + order_id) for some configured merchant's secret.
	kind := gateway.KindDeposit
	if k.shape == "withdrawal" {
		kind = gateway.KindWithdrawal
	}
	merchant, detail, ok := l.verifyCaptured(name, kind, k.str("order_id"), k.str("token"), k.str("payment_type"))
	k.add("token", ok, "%s", detail)
	if tok := k.str("token"); tok != "" {
		k.add("format.token", md5Hex().MatchString(tok), "%s; the sandbox writes 32 lower-case hex digits", cut.To(tok, 40))
	}
	k.attribute()
	return k.shape, merchant, k.fs, k.dialect
}

// attribute says, per dialect switch the body shows, which value it matches, as a
// finding ("amount is a string: set callback_amount: string") and in k.dialect.
func (k *callbackCheck) attribute() {
	set := func(sw gateway.Switch, v, why string) {
		k.dialect[string(sw)] = v
		k.add("dialect."+string(sw), true, "%s: set %s: %s", why, sw, v)
	}
	switch {
	case k.form:
		set(gateway.SwitchCallbackBody, gateway.ValueForm, "the body is the form field json=<JSON>")
	case !k.plainForm:
		set(gateway.SwitchCallbackBody, gateway.ValueJSON, "the body is JSON")
	}
	if raw, ok := k.byKey["amount"]; ok && !k.plainForm {
		if jsonType(raw) == "string" {
			set(gateway.SwitchCallbackAmount, gateway.ValueString, "amount is a string")
		} else {
			set(gateway.SwitchCallbackAmount, gateway.ValueNumber, "amount is a number")
		}
	}
	if _, ok := k.byKey["username"]; ok {
		set(gateway.SwitchCallbackUsername, gateway.ValueOn, "the callback carries username")
	} else {
		set(gateway.SwitchCallbackUsername, gateway.ValueOff, "the callback carries no username")
	}
	if _, ok := k.byKey["payment_type"]; !ok {
		set(gateway.SwitchPaymentType, gateway.ValueOff, "the callback carries no payment_type")
		return
	}
	pt := k.str("payment_type")
	switch {
	case gateway.LiveWord(pt):
		set(gateway.SwitchPaymentType, gateway.ValueLive, "payment_type "+strconv.Quote(pt)+" is a channel's newest live word")
	case pt == gateway.PaymentTypeBank || pt == gateway.PaymentTypeDuitNow || pt == gateway.PaymentTypeEwallet:
		set(gateway.SwitchPaymentType, gateway.ValueChannel, "payment_type "+strconv.Quote(pt)+" is a channel's name")
	default:
		set(gateway.SwitchPaymentType, gateway.ValueChannel, "payment_type "+strconv.Quote(cut.To(pt, 40))+" is a word of its own (give the merchant payment_type: "+strconv.Quote(cut.To(pt, 40))+")")
	}
}

// dialectSnippet is the config for a captured dialect: the switches whose value
// differs from the document's, as a merchant's dialect: block ("" when none do).
func dialectSnippet(d map[string]string) string {
	var lines []string
	for _, sw := range gateway.Switches() {
		if v, ok := d[string(sw.Name)]; ok && v != sw.Document {
			lines = append(lines, "  "+string(sw.Name)+": "+v)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "dialect:\n" + strings.Join(lines, "\n") + "\n"
}

// callbackCheck is one captured body being checked: its fields and the findings.
type callbackCheck struct {
	fs []Finding
	// form says the body was the form field json=<JSON> (callback_body: form);
	// dialect collects the switches the body shows (attribute).
	form    bool
	dialect map[string]string
	// plainForm says the body was a form of the callback's fields, whose values are
	// all strings: the JSON types say nothing of the dialect.
	plainForm bool
	fields    []field
	byKey     map[string]json.RawMessage
	shape     string // deposit, deposit_fail or withdrawal
	status    string // order_status
}

func (k *callbackCheck) add(check string, ok bool, format string, args ...any) {
	k.fs = append(k.fs, Finding{Check: check, OK: ok, Detail: cut.To(fmt.Sprintf(format, args...), maxFindingDetail)})
}

// str is a key's value as a string ("" when absent or not a string).
func (k *callbackCheck) str(key string) string {
	var v string
	_ = json.Unmarshal(k.byKey[key], &v)
	return v
}

// parse reads the body as JSON, or as a form (every value a string); false when it is
// neither and nothing else can be checked.
func (k *callbackCheck) parse(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	fields, err := jsonFields(body)
	// A member of the family sends the JSON as the form field json=<JSON> (docs/fidelity.md, family,
	// callback_body: form): its JSON is what is checked.
	if err != nil && mt == "application/x-www-form-urlencoded" && bytes.HasPrefix(body, []byte("json=")) {
		if v, qerr := url.ParseQuery(string(body)); qerr == nil && len(v) == 1 {
			if f, jerr := jsonFields([]byte(v.Get("json"))); jerr == nil {
				fields, err, k.form = f, nil, true
			}
		}
		// The one handler known to take these strips the prefix and parses the rest,
		// so a live body may be JSON as it is, which a form decoder can refuse (Go's
		// refuses a ";" in a remark): read it as that handler does.
		if !k.form {
			if f, jerr := jsonFields(body[len("json="):]); jerr == nil {
				fields, err, k.form = f, nil, true
			}
		}
	}
	if k.form {
		k.add("content_type", true, "%s with the form field json=<JSON>: the callback_body: form dialect", contentType)
	} else {
		k.add("content_type", mt == "application/json", "%s; the sandbox sends application/json", orNone(contentType))
	}
	if err != nil {
		form, ferr := formFields(mt, contentType, body)
		if ferr != nil || len(form) == 0 {
			k.add("json", false, "not a JSON object (%v): nothing else can be checked", err)
			return false
		}
		k.add("json", false, "not a JSON object but a %s form; its fields are checked, all read as strings", mt)
		fields, k.plainForm = form, true
	} else {
		k.add("json", true, "a JSON object with %d keys", len(fields))
	}
	k.fields = fields
	var dups []string
	for _, f := range fields {
		if _, seen := k.byKey[f.key]; seen {
			dups = append(dups, f.key)
		}
		k.byKey[f.key] = f.raw
	}
	if len(dups) > 0 {
		k.add("keys_duplicate", false, "repeated keys: %s (the last one counts)", strings.Join(dups, ", "))
	}
	return true
}

// pickShape decides which of the three bodies this should be: by type and
// order_status, else by the keys it resembles.
func (k *callbackCheck) pickShape() {
	typ := k.str("type")
	k.status = k.str("order_status")
	switch {
	case typ == string(gateway.KindWithdrawal):
		k.shape = "withdrawal"
	case typ == string(gateway.KindDeposit) && k.status == string(gateway.StatusCompleted):
		k.shape = "deposit"
	case typ == string(gateway.KindDeposit):
		k.shape = "deposit_fail"
	}
	if k.shape != "" {
		k.add("shape", true, "type %s, order_status %s: compared with the sandbox's %s callback", typ, orNone(k.status), k.shape)
		return
	}
	k.shape = "deposit"
	if _, ok := k.byKey["remarks"]; ok {
		k.shape = "withdrawal"
	} else if _, ok := k.byKey["name"]; !ok {
		k.shape = "deposit_fail"
	}
	k.add("shape", false, "type is %s, not deposit or withdrawal: compared with the %s callback, which its keys resemble", quoteOrNone(k.byKey["type"]), k.shape)
}

// checkKeys reports missing and extra keys, and keys out of the sandbox's order.
func (k *callbackCheck) checkKeys(sh callbackShape) {
	var missing, extra []string
	for _, key := range sh.keys {
		if _, ok := k.byKey[key]; !ok && !sh.optional[key] {
			missing = append(missing, key)
		}
	}
	// A set, not a search of extra: a forged 1 MiB body may carry 100,000 keys.
	seen := map[string]bool{}
	for _, f := range k.fields {
		if !slices.Contains(sh.keys, f.key) && !seen[f.key] {
			seen[f.key] = true
			extra = append(extra, f.key)
		}
	}
	k.add("keys_missing", len(missing) == 0, "%s", listOr(missing, "every key of the "+k.shape+" callback is there"))
	k.add("keys_extra", len(extra) == 0, "%s", listOr(extra, "no key the sandbox does not send"))
	var order, want []string
	for _, f := range k.fields {
		if slices.Contains(sh.keys, f.key) && !slices.Contains(order, f.key) {
			order = append(order, f.key)
		}
	}
	for _, key := range sh.keys {
		if slices.Contains(order, key) {
			want = append(want, key)
		}
	}
	k.add("key_order", slices.Equal(order, want), "%s (the sandbox: %s)", strings.Join(order, ", "), strings.Join(want, ", "))
}

// checkTypes reports the JSON type of each key the shape knows.
func (k *callbackCheck) checkTypes(sh callbackShape) {
	for _, key := range sh.keys {
		raw, ok := k.byKey[key]
		if !ok {
			continue
		}
		got := jsonType(raw)
		if key == "amount" && got == "string" && !k.plainForm {
			k.add("type."+key, true, "a string: the callback_amount: string dialect (the document's is a number): %s", cut.To(string(raw), 80))
			continue
		}
		k.add("type."+key, got == sh.types[key], "%s, the sandbox sends a %s: %s", got, sh.types[key], cut.To(string(raw), 80))
	}
}

// checkFormats reports how amount, charge and currency are written.
func (k *callbackCheck) checkFormats() {
	if raw, ok := k.byKey["amount"]; ok {
		lit := strings.Trim(string(raw), `"`)
		if k.shape == "withdrawal" {
			k.add("format.amount", plainNumber().MatchString(lit), "%s; payout callbacks write the amount plain, as few decimals as it needs (\"amount\": 1)", cut.To(lit, 40))
		} else {
			k.add("format.amount", fourDecimals().MatchString(lit), "%s; deposit callbacks write the amount with four decimals (300.0000)", cut.To(lit, 40))
		}
	}
	if raw, ok := k.byKey["charge"]; ok {
		lit := strings.Trim(string(raw), `"`)
		var good bool
		var expect string
		switch {
		case k.shape == "deposit":
			good, expect = fourDecimals().MatchString(lit), "four decimals on a completed deposit (\"9.0000\")"
		case k.shape == "deposit_fail":
			good, expect = twoDecimals().MatchString(lit), "two decimals on a failed deposit (\"0.00\")"
		case k.status == string(gateway.StatusCompleted):
			good, expect = twoDecimals().MatchString(lit), "two decimals on a completed payout (\"5.00\")"
		default:
			good, expect = lit == "0", "\"0\" on a failed payout"
		}
		k.add("format.charge", good, "%s; the sandbox writes %s", cut.To(lit, 40), expect)
	}
	if _, ok := k.byKey["currency"]; ok {
		k.add("format.currency", currencyCode().MatchString(k.str("currency")), "%s; a code of 3 to 5 upper-case letters or digits", quoteOrNone(k.byKey["currency"]))
	}
}

// checkValues reports status, order_status and payment_type values the sandbox would
// not send.
func (k *callbackCheck) checkValues() {
	if raw, ok := k.byKey["status"]; ok {
		k.add("value.status", strings.Trim(string(raw), `"`) == "true", "%s; every callback carries status true, failures included", cut.To(string(raw), 40))
	}
	if _, ok := k.byKey["order_status"]; ok {
		known := k.status == string(gateway.StatusCompleted) || k.status == string(gateway.StatusFail) ||
			(k.shape == "withdrawal" && k.status == string(gateway.StatusRejected))
		k.add("value.order_status", known, "%s; the sandbox sends completed or fail (rejected on payouts)", quoteOrNone(k.byKey["order_status"]))
	}
	if _, ok := k.byKey["payment_type"]; ok {
		pt := k.str("payment_type")
		known := gateway.ValidPaymentType(pt)
		k.add("value.payment_type", known, "%s; live callbacks carry Online Banking, QR or EWallet (bank, duitnow, ewallet in older code), or a merchant's own word of at most 32 characters", quoteOrNone(k.byKey["payment_type"]))
	}
}

// verifyCaptured tries merchants' secrets on a captured token: first the merchant the
// capture's name names (a team may name its capture after its merchant), then the
// merchants holding an order with order_id, then the others in the merchant list's
// order, at most maxTokenTries in all, so a forged callback costs the same with
// 10,000 run-time merchants as with one. A token none of them signs is said so with
// the count tried and the first few names, not every name.
func (l *Log) verifyCaptured(name string, kind gateway.Kind, orderID, token, paymentType string) (merchant, detail string, ok bool) {
	if orderID == "" || token == "" {
		return "", "no order_id or no token (as a string): nothing to verify", false
	}
	tried, total := l.merchants.TokenCandidates(name, kind, orderID, maxTokenTries)
	for _, m := range tried {
		want := gateway.Token(m.SecretKey, orderID)
		if !strings.EqualFold(token, want) {
			continue
		}
		detail = "md5(secret + order_id) with merchant " + m.Username + "'s secret"
		if token != want {
			detail += " (in upper-case hex; the sandbox writes lower case)"
		}
		if paymentType != "" && m.PaymentType != "" && m.PaymentType != paymentType {
			detail += "; note: its payment_type is " + m.PaymentType + ", the callback says " + paymentType
		}
		return m.Username, detail, true
	}
	names := make([]string, 0, tokenTriedNamed)
	for _, m := range tried[:min(len(tried), tokenTriedNamed)] {
		names = append(names, cut.To(m.Username, 60))
	}
	list := strings.Join(names, ", ")
	if more := len(tried) - len(names); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	detail = fmt.Sprintf("md5(secret + order_id) matches no secret of the %d merchants tried (tried %s)", len(tried), list)
	if total > len(tried) {
		detail += fmt.Sprintf("; %d merchants were not tried: a capture tries the merchant its name names, then those holding "+
			"order_id, then the others in order, at most %d", total-len(tried), maxTokenTries)
	}
	return "", detail, false
}

// jsonFields reads a JSON object's top-level keys in order with their raw values.
func jsonFields(body []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("the body is not an object")
	}
	var out []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, field{key: key, raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return out, nil
}

// formFields reads a urlencoded or multipart body's fields in order, each value as a
// JSON string.
func formFields(mt, contentType string, body []byte) ([]field, error) {
	var out []field
	addField := func(k, v string) {
		b, _ := json.Marshal(v)
		out = append(out, field{key: k, raw: b})
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		for _, pair := range strings.Split(string(body), "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			k, err1 := url.QueryUnescape(k)
			v, err2 := url.QueryUnescape(v)
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			addField(k, v)
		}
		return out, nil
	case "multipart/form-data":
		_, params, _ := mime.ParseMediaType(contentType)
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			v, err := io.ReadAll(p)
			if err != nil {
				return nil, err
			}
			addField(p.FormName(), string(v))
		}
	}
	return nil, errors.New("not a form")
}

// jsonType names the JSON type of a raw value.
func jsonType(raw json.RawMessage) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func quoteOrNone(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(absent)"
	}
	return cut.To(string(raw), 60)
}

func listOr(keys []string, none string) string {
	if len(keys) == 0 {
		return none
	}
	return strings.Join(keys, ", ")
}
