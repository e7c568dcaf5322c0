package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Faults on the merchant's own requests: what a gateway, its load balancer or the
// network between can do to a call (WireMock's and Hoverfly's fault kinds, with a
// payment gateway's semantics added: lost_answer does the work and loses its answer).
// A FaultSpec says what happens; the server decides which requests it hits.

// FaultKind is what an injected fault does to a request.
type FaultKind string

// The fault kinds.
const (
	// FaultStatus answers an HTTP status (502, 503, 504, 429 …) with a body of
	// BodyJSON, BodyHTML or BodyEmpty; nothing is done.
	FaultStatus FaultKind = "status"
	// FaultHang accepts the request and never answers, until the client gives up,
	// Duration passes (at most MaxHang) or the sandbox shuts down; nothing is done.
	FaultHang FaultKind = "hang"
	// FaultReset closes the connection without an answer (a TCP reset); nothing is done.
	FaultReset FaultKind = "reset"
	// FaultSlow does the work and answers correctly, the body dripped over Duration.
	FaultSlow FaultKind = "slow"
	// FaultLostAnswer does the work (the order exists, the payout is reserved) and
	// loses the answer: Status and Body (default 504, html), or a reset (Then).
	FaultLostAnswer FaultKind = "lost_answer"
	// FaultMalformed does the work and answers a broken body (Malformed).
	FaultMalformed FaultKind = "malformed"
	// FaultMessage refuses the request as the vendor does, HTTP 200 and
	// {"status":false,"message":Message}; nothing is done. It is the one way to force a
	// refusal: a scenario's `error` is this kind.
	FaultMessage FaultKind = "message"
	// FaultMaintenance is a maintenance window: withdraw_orders is refused with
	// "Bank Maintenance." (docs/fidelity.md, observed), every other endpoint answers a 503 page.
	FaultMaintenance FaultKind = "maintenance"
)

// Bodies of a status fault.
const (
	BodyJSON       = "json"
	BodyHTML       = "html"
	BodyCloudflare = "cloudflare"
	BodyEmpty      = "empty"
)

// Malformed bodies.
const (
	// MalformedTruncated cuts the JSON answer in half, as a dropped connection does.
	MalformedTruncated = "truncated"
	// MalformedTrailingComma writes the answer as the vendor document prints its
	// examples, with a comma before the closing brace (vendor document, the callback
	// examples and the withdraw_orders answer).
	MalformedTrailingComma = "trailing_comma"
)

// ThenReset is lost_answer's Then: close the connection instead of answering.
const ThenReset = "reset"

// Bounds of the time-taking kinds.
const (
	// MaxHang bounds a hang (and its default): the vendor's PHP examples set no
	// timeout and merchants' cURL ones run to 400 s.
	MaxHang = 10 * time.Minute
	// DefaultSlow is how long a slow answer takes unless Duration says.
	DefaultSlow = 5 * time.Second
	// MaxMessageBytes bounds a message fault's text and a rule's error: the vendor's
	// refusals are a few words ("Params incorrect."), and each is kept with the
	// fault queue or the rules and written into every answer it refuses.
	MaxMessageBytes = 1024
)

// FaultSpec is one fault: its kind and the kind's own fields.
type FaultSpec struct {
	Kind FaultKind `yaml:"kind" json:"kind"`
	// Status is the HTTP status of status and lost_answer.
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
	// Body is status's and lost_answer's body: json, html, cloudflare or empty.
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
	// Then is lost_answer's "reset": close the connection instead of answering.
	Then string `yaml:"then,omitempty" json:"then,omitempty"`
	// Duration is slow's drip time and hang's bound.
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	// Message is message's refusal text.
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
	// Malformed is malformed's body: truncated or trailing_comma.
	Malformed string `yaml:"malformed,omitempty" json:"malformed,omitempty"`
}

// ErrBadFault is a fault spec that does not hold together.
var ErrBadFault = errors.New("bad fault")

func badFault(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadFault, fmt.Sprintf(format, args...))
}

// Normalize checks a spec and fills its defaults: status 503 (status) or 504
// (lost_answer), body html, hang up to MaxHang, slow over DefaultSlow, malformed
// truncated.
func (f *FaultSpec) Normalize() error {
	if f.Duration < 0 || time.Duration(f.Duration) > MaxHang {
		return badFault("duration must be between 0 and %s", MaxHang)
	}
	if len(f.Message) > MaxMessageBytes {
		// Checked whatever the kind: a message given to another kind is stored too.
		return badFault("message is %d bytes: at most %d are allowed", len(f.Message), MaxMessageBytes)
	}
	switch f.Kind {
	case FaultStatus, FaultLostAnswer:
		return f.normalizeAnswer()
	case FaultHang:
		if f.Duration == 0 {
			f.Duration = Duration(MaxHang)
		}
	case FaultSlow:
		if f.Duration == 0 {
			f.Duration = Duration(DefaultSlow)
		}
	case FaultMalformed:
		if f.Malformed == "" {
			f.Malformed = MalformedTruncated
		} else if !slices.Contains(malformed, f.Malformed) {
			return badFault("malformed must be %s, not %q", OneOf(malformed), f.Malformed)
		}
	case FaultMessage:
		if f.Message == "" {
			return badFault("a message fault needs its message, e.g. Params incorrect.")
		}
	case FaultReset, FaultMaintenance:
	case "":
		return badFault("kind is required: %s", OneOf(QueuedFaultKinds()))
	default:
		return badFault("kind %q is not one of %s", f.Kind, OneOf(QueuedFaultKinds()))
	}
	return nil
}

func (f *FaultSpec) normalizeAnswer() error {
	if f.Then != "" && (f.Kind != FaultLostAnswer || f.Then != ThenReset) {
		return badFault("then=reset is lost_answer's only then")
	}
	if f.Status == 0 {
		f.Status = http.StatusServiceUnavailable
		if f.Kind == FaultLostAnswer {
			f.Status = http.StatusGatewayTimeout
		}
	}
	if f.Status < 200 || f.Status > 599 {
		return badFault("status must be an HTTP status such as 502, not %d", f.Status)
	}
	if f.Body == "" {
		f.Body = BodyHTML
	} else if !slices.Contains(faultBodies, f.Body) {
		return badFault("body must be %s, not %q", OneOf(faultBodies), f.Body)
	}
	return nil
}

// DoesWork reports whether the request is still carried out under the fault (its
// answer altered or lost) rather than stopped before it.
func (f FaultSpec) DoesWork() bool {
	return f.Kind == FaultSlow || f.Kind == FaultLostAnswer || f.Kind == FaultMalformed
}

// String describes the fault in a few words, for the journal: "status 502 html".
func (f FaultSpec) String() string {
	switch f.Kind {
	case FaultStatus:
		return "status " + strconv.Itoa(f.Status) + " " + f.Body
	case FaultLostAnswer:
		if f.Then == ThenReset {
			return "lost_answer then reset"
		}
		return "lost_answer " + strconv.Itoa(f.Status) + " " + f.Body
	case FaultHang, FaultSlow:
		return string(f.Kind) + " " + time.Duration(f.Duration).String()
	case FaultMalformed:
		return "malformed " + f.Malformed
	case FaultMessage:
		return "message " + strconv.Quote(f.Message)
	}
	return string(f.Kind)
}

// ErrorPage is the answer of a status fault: its content type and body. html is
// nginx's own error page, as a load balancer in front of a PHP gateway writes it;
// cloudflare a page in the shape of Cloudflare's 5xx pages; json the vendor's refusal
// shape with the status text as its message.
func ErrorPage(status int, body string) (contentType string, b []byte) {
	text := http.StatusText(status)
	switch body {
	case BodyEmpty:
		return "", nil
	case BodyJSON:
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `{"status":false,"message":%q}`, text+".")
		return "application/json", buf.Bytes()
	case BodyCloudflare:
		return "text/html; charset=UTF-8", fmt.Appendf(nil, "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head><title>%d: %s</title></head>\n"+
			"<body>\n<div id=\"cf-error-details\">\n<h1>Error %d</h1>\n<p>%s</p>\n<p>Cloudflare Ray ID: <strong>8f2c1a7e9b3d4c21</strong></p>\n</div>\n</body>\n</html>\n",
			status, text, status, text)
	}
	if t, ok := nginxText[status]; ok {
		text = t
	}
	return "text/html", fmt.Appendf(nil, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
		status, text, status, text)
}

// nginxText holds nginx's own status lines where they differ from Go's (nginx's
// ngx_http_special_response.c).
var nginxText = map[int]string{
	http.StatusServiceUnavailable: "Service Temporarily Unavailable",
	http.StatusGatewayTimeout:     "Gateway Time-out",
}

// Malform breaks a JSON answer as m says.
func Malform(body []byte, m string) []byte {
	if m == MalformedTrailingComma {
		if i := bytes.LastIndexByte(body, '}'); i > 0 {
			out := append([]byte(nil), body[:i]...)
			return append(append(out, ','), body[i:]...)
		}
		return body
	}
	return append([]byte(nil), body[:len(body)/2]...)
}

// Maintenance is a window in which endpoints refuse (FaultMaintenance), for Duration
// from when it opens. No endpoints: withdraw_orders, the payouts the gateway's
// "Bank Maintenance." refuses.
type Maintenance struct {
	Endpoints []Endpoint `yaml:"endpoints,omitempty" json:"endpoints,omitempty"`
	Duration  Duration   `yaml:"duration" json:"duration"`
}

// Normalize checks a window and fills its default endpoints.
func (m *Maintenance) Normalize() error {
	if m.Duration <= 0 {
		return badFault("a maintenance window needs a positive duration, e.g. 10m")
	}
	// Each endpoint once: a window is kept and matched against every request.
	var out []Endpoint
	for _, e := range m.Endpoints {
		p, ok := ParseEndpoint(string(e))
		if !ok {
			return badFault("%q is not a vendor endpoint", e)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	m.Endpoints = out
	if len(m.Endpoints) == 0 {
		m.Endpoints = []Endpoint{EndpointWithdrawOrders}
	}
	return nil
}
