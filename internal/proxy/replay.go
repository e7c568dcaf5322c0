package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/internal/parity"
)

// ReplayOptions configures Replay.
type ReplayOptions struct {
	// Username, APIKey and Secret are the shadow merchant's. Empty: the username of the
	// first recorded request carrying username and api_key, and the sandbox's default
	// api_key and secret, which stand in for the recording's "[redacted]".
	Username, APIKey, Secret string
	// Profile is the shadow's profile; "" is the document profile.
	Profile gateway.Profile
	// NoAttribution runs no second shadow (Options.NoAttribution).
	NoAttribution bool
	// ShadowTimeout bounds each shadow request; default 10 s.
	ShadowTimeout time.Duration
	// Log receives what the shadow logs; default a logger that discards it (the report
	// says it all).
	Log *slog.Logger
}

// maxRecordedLine bounds one line of a recording: a 1 MiB body, JSON-escaped, with
// its request.
const maxRecordedLine = 8 << 20

// IsRecording reports whether the file at path is a proxy recording: its first line
// is a header of RecordingFormat. parity's own recordings (one JSON document) are not.
func IsRecording(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 4096).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return false, err
	}
	var h RecordingHeader
	return json.Unmarshal(bytes.TrimSpace(line), &h) == nil && h.Format == RecordingFormat, nil
}

// Replay answers the exchanges of a proxy recording again, in their order, offline,
// with a fresh shadow sandbox, as the proxy answered them live: the same token and
// p_url mapping, the same following of the target, the same comparison and profile
// attribution. The recording's secrets are masks, so the shadow's own credentials
// stand in for "[redacted]" and the shadow's tokens for the masked ones (side.token).
// The exchanges run back to back: an outcome that comes with time (a payout's
// withdrawal_delay) may differ from the live run's. ctx stops it between exchanges.
func Replay(ctx context.Context, path string, o ReplayOptions) (*parity.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxRecordedLine)
	hdr, err := readHeader(sc, path)
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	p := newCore(Options{Target: hdr.Target, Username: o.Username, APIKey: o.APIKey, Secret: o.Secret,
		Profile: o.Profile, NoAttribution: o.NoAttribution, ShadowTimeout: o.ShadowTimeout, Log: o.Log})
	p.sh.replay = true
	defer p.sh.close()
	if o.Username != "" && o.APIKey != "" {
		if err := p.sh.start(o.Username, o.APIKey); err != nil {
			return nil, err
		}
	}
	for n := 2; sc.Scan(); n++ {
		if err := ctx.Err(); err != nil {
			return p.replayReport(hdr), err
		}
		var rec RecordedExchange
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return p.replayReport(hdr), fmt.Errorf("recording %s, line %d: %w", path, n, err)
		}
		p.seq.Add(1)
		p.sh.handle(rec.exchange())
	}
	if err := sc.Err(); err != nil {
		return p.replayReport(hdr), fmt.Errorf("recording %s: %w", path, err)
	}
	rep := p.replayReport(hdr)
	if p.sh.main == nil {
		return rep, fmt.Errorf("recording %s: no exchange carries username and api_key, so no shadow started: give --username and --api-key", path)
	}
	return rep, nil
}

func readHeader(sc *bufio.Scanner, path string) (*RecordingHeader, error) {
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("recording %s: %w", path, err)
		}
		return nil, fmt.Errorf("recording %s: empty", path)
	}
	var h RecordingHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != RecordingFormat {
		return nil, fmt.Errorf("recording %s: the first line is no %s header", path, RecordingFormat)
	}
	return &h, nil
}

// replayReport is the report so far, named for the recording it replays.
func (p *Proxy) replayReport(h *RecordingHeader) *parity.Report {
	rep := p.Report()
	rep.Target = "recording of " + h.Target + " (captured traffic, " + h.RecordedAt.Format(time.RFC3339) + ")"
	return rep
}

// exchange turns a recorded line back into what the shadow reads: the request's
// fields encoded again in its recorded encoding (its body is not recorded), the
// answer as the integration read it.
func (r *RecordedExchange) exchange() *exchange {
	ex := &exchange{seq: r.Seq, at: r.Time, method: r.Method, path: r.Path, rawQuery: r.Query, reqHeader: http.Header{},
		status: r.Status, respHeader: http.Header{}, respBody: []byte(r.Body), tooLarge: r.BodyOmitted, err: r.Error,
		took: time.Duration(r.Millis * float64(time.Millisecond))}
	if ex.method == "" {
		ex.method = http.MethodPost
	}
	if r.ContentType != "" {
		ex.respHeader.Set("Content-Type", r.ContentType)
	}
	if len(r.Request) == 0 {
		return ex
	}
	fields := url.Values{}
	for k, v := range r.Request {
		fields.Set(k, v)
	}
	if b, ct, ok := encodeLike(r.RequestType, fields); ok {
		ex.reqBody = b
		ex.reqHeader.Set("Content-Type", ct)
	}
	return ex
}
