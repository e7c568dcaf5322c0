package proxy

import (
	"bufio"
	"encoding/json"
	"os"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// RecordingFormat tags the first line of a proxy recording; `parity --replay` tells a
// proxy recording from its own by it (IsRecording, Replay).
const RecordingFormat = "vpay88-proxy-recording/1"

// RecordingHeader is the first line of a recording file.
type RecordingHeader struct {
	Format     string    `json:"format"`
	RecordedAt time.Time `json:"recorded_at"`
	Target     string    `json:"target"`
}

// RecordedExchange is every later line: one request as the integration sent it and
// the target's answer as the integration received it, secrets masked as parity
// recordings mask them (request fields api_key and secret "[redacted]", auth and
// token fields masked character by character, and every api key, secret, auth token
// and p_url key seen so far masked wherever it appears in the query, the fields and
// the body). Request headers are not recorded. A body over 1 MiB is left out
// (body_omitted).
type RecordedExchange struct {
	Seq         int64             `json:"seq"`
	Time        time.Time         `json:"time"`
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Query       string            `json:"query,omitempty"`
	Endpoint    gateway.Endpoint  `json:"endpoint,omitempty"`
	RequestType string            `json:"request_content_type,omitempty"`
	Request     map[string]string `json:"request"`
	Status      int               `json:"status"`
	ContentType string            `json:"content_type"`
	Body        string            `json:"body"`
	BodyOmitted bool              `json:"body_omitted,omitempty"`
	Error       string            `json:"error,omitempty"`
	Millis      float64           `json:"duration_ms"`
}

// recorder appends exchanges to the recording file, one JSON line each, flushed per
// line so a killed proxy leaves a readable file.
type recorder struct {
	f   *os.File
	w   *bufio.Writer
	red *parity.Redactor
}

func openRecorder(path, target string, red *parity.Redactor) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	r := &recorder{f: f, w: bufio.NewWriter(f), red: red}
	if err := r.line(RecordingHeader{Format: RecordingFormat, RecordedAt: time.Now().UTC().Truncate(time.Second), Target: target}); err != nil {
		_ = f.Close()
		return nil, err
	}
	return r, nil
}

func (r *recorder) write(ex *exchange) error {
	fields := formFields(ex.reqHeader.Get("Content-Type"), ex.reqBody)
	r.red.LearnRequest(fields)
	body := decoded(ex.respHeader, ex.respBody)
	if v, err := client.DecodeNumbers(body); err == nil {
		r.red.Learn(v)
	}
	e, _ := gateway.ParseEndpoint(ex.path)
	rec := RecordedExchange{Seq: ex.seq, Time: ex.at.UTC(), Method: ex.method, Path: ex.path,
		Query: r.red.Text(ex.rawQuery), Endpoint: e, RequestType: ex.reqHeader.Get("Content-Type"),
		Request: r.red.Fields(fields), Status: ex.status, Body: r.red.Text(string(body)),
		BodyOmitted: ex.tooLarge, Error: r.red.Text(ex.err), Millis: float64(ex.took.Microseconds()) / 1000}
	if ex.respHeader != nil {
		rec.ContentType = ex.respHeader.Get("Content-Type")
	}
	return r.line(rec)
}

func (r *recorder) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := r.w.Write(append(b, '\n')); err != nil {
		return err
	}
	return r.w.Flush()
}

func (r *recorder) close() error {
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}
