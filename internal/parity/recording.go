package parity

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
)

// RecordingFormat is the format tag of a recording file; a reader refuses other tags.
const RecordingFormat = "vpay88-parity-recording/1"

// Recording is a target's answers to one parity conversation, written by
// `vpay88-sandbox parity --record FILE` and compared with the sandbox, offline, by
// `--replay FILE`. It is JSON:
//
//	{
//	  "format": "vpay88-parity-recording/1",
//	  "recorded_at": "2025-01-31T09:12:00Z",
//	  "target": "https://gw.example",
//	  "username": "vpay88-test",
//	  "currency": "MYR",
//	  "amount": "420",
//	  "allow_payouts": false,
//	  "steps": [
//	    {
//	      "name": "auth",
//	      "endpoint": "auth",
//	      "path": "/merchant/auth",
//	      "request": {"api_key": "[redacted]", "username": "vpay88-test"},
//	      "status": 200,
//	      "content_type": "text/html; charset=UTF-8",
//	      "body": "{\"status\":true,\"auth\":\"xAaXxxa0XxxaXAXXxaaX\"}"
//	    }
//	  ]
//	}
//
// body is the answer byte for byte as a JSON string (trailing commas, number literals
// and escaped slashes kept), except for secrets. Redaction: request fields api_key and
// secret are "[redacted]"; auth tokens the target issued, the key parameter of each
// p_url, and every occurrence of the api key and secret key given to the run (values of
// six characters or more) are masked wherever they appear, character by character
// (digits become 0, a-f a, other lower-case letters x, A-F A, other upper-case letters
// X, _ and - stay, anything else *), which keeps the shape the comparison needs ("[A-Za-z0-9]{20}") and nothing else.
type Recording struct {
	Format       string         `json:"format"`
	RecordedAt   time.Time      `json:"recorded_at"`
	Target       string         `json:"target"`
	Username     string         `json:"username"`
	Currency     string         `json:"currency"`
	Amount       string         `json:"amount"`
	AllowPayouts bool           `json:"allow_payouts"`
	Steps        []RecordedStep `json:"steps"`
}

// RecordedStep is one request of the conversation and the target's answer.
type RecordedStep struct {
	Name        string            `json:"name"`
	Endpoint    client.Endpoint   `json:"endpoint"`
	Path        string            `json:"path"`
	Request     map[string]string `json:"request"`
	Status      int               `json:"status"`
	ContentType string            `json:"content_type"`
	Body        string            `json:"body"`
}

// step returns the recorded step by name.
func (r *Recording) step(name string) (*RecordedStep, bool) {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i], true
		}
	}
	return nil, false
}

// WriteFile saves the recording as indented JSON, readable only by its owner: it
// holds a merchant's answers, if not its secrets.
func (r *Recording) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// ReadRecording loads and checks a recording file.
func ReadRecording(path string) (*Recording, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Recording
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	if r.Format != RecordingFormat {
		return nil, fmt.Errorf("recording %s: format %q, want %q", path, r.Format, RecordingFormat)
	}
	if len(r.Steps) == 0 {
		return nil, errors.New("recording " + path + ": no steps")
	}
	return &r, nil
}

// Redacted stands for a credential in request fields.
const Redacted = "[redacted]"

// minSecretLen keeps a short credential (a test api key of "1") from masking every
// "1" of every answer.
const minSecretLen = 6

// Redactor masks secrets in everything a run saves or prints: the parity run's
// report and recording, and the proxy's. It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// NewRedactor returns a Redactor that already knows the given secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		r.Add(s)
	}
	return r
}

// Add learns a secret to mask wherever it appears.
func (r *Redactor) Add(s string) {
	if len(s) < minSecretLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.secrets, s) {
		return
	}
	r.secrets = append(r.secrets, s)
	// Longest first, so a secret containing another is masked whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// LearnRequest adds the credentials a request carries.
func (r *Redactor) LearnRequest(f url.Values) {
	for _, k := range []string{"api_key", "secret", "secret_key", "auth", "token"} {
		r.Add(f.Get(k))
	}
}

// Learn adds the secrets an answer carries: an auth token, a token, a p_url's key.
func (r *Redactor) Learn(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, k := range []string{"auth", "token"} {
		if tok, ok := m[k].(string); ok {
			r.Add(tok)
		}
	}
	if p, ok := m["p_url"].(string); ok {
		if u, err := url.Parse(p); err == nil {
			r.Add(u.Query().Get("key"))
		}
	}
}

// Text masks every known secret in s.
func (r *Redactor) Text(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, mask(sec))
		}
	}
	return s
}

// Fields redacts request fields for a report or a recording: api_key and secrets
// become Redacted, auth tokens are masked, other values have known secrets masked.
func (r *Redactor) Fields(f url.Values) map[string]string {
	out := make(map[string]string, len(f))
	for k := range f {
		v := f.Get(k)
		switch k {
		case "api_key", "secret", "secret_key":
			if v != "" {
				v = Redacted
			}
		case "auth", "token":
			v = mask(v)
		default:
			v = r.Text(v)
		}
		out[k] = v
	}
	return out
}

// mask replaces a secret character by character, keeping its character classes and
// length: the parity comparison of tokens looks at nothing else.
func mask(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c >= '0' && c <= '9':
			return '0'
		case c >= 'a' && c <= 'f':
			return 'a'
		case c >= 'g' && c <= 'z':
			return 'x'
		case c >= 'A' && c <= 'F':
			return 'A'
		case c >= 'G' && c <= 'Z':
			return 'X'
		case c == '_' || c == '-':
			return c
		}
		return '*'
	}, s)
}
