package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// maxBodyBytes caps every request body. The vendor's requests are a few hundred bytes;
// 1 MiB leaves room for scenario files sent to the admin API.
const maxBodyBytes = 1 << 20

// formValues reads the POST body the way PHP fills $_POST: multipart/form-data or
// application/x-www-form-urlencoded give their fields; any other body (JSON, empty,
// broken multipart) gives no fields at all, so the endpoint answers its own
// "Params missing." as the vendor would. Query-string fields are not read, as $_POST
// does not read them.
func formValues(r *http.Request) (url.Values, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	var values url.Values
	switch ct {
	case "multipart/form-data":
		// Read once, kept as ParseMultipartForm keeps its form: the fault matcher
		// reads the fields before the handler does.
		if values = r.PostForm; values == nil {
			if values, err = multipartValues(r); err == nil {
				r.PostForm = values
			}
		}
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
		values = r.PostForm
	default:
		return url.Values{}, nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errBodyTooLarge
	}
	if err != nil || values == nil {
		return url.Values{}, nil
	}
	return values, nil
}

// maxFormParts is ReadForm's own bound on the parts of a form (its
// GODEBUG multipartmaxparts default).
const maxFormParts = 1000

var errTooManyParts = errors.New("multipart: too many parts")

// multipartValues gives the fields of a multipart/form-data body as ReadForm gives
// them (a part with a file name is a file, not a field; FuzzMultipartValues checks
// they agree), for a third less of its CPU: ReadForm parses every part's
// Content-Disposition with mime.ParseMediaType and gives every value a buffer of its
// own, which was a fifth of a generate_orders' CPU (BenchmarkGenerateOrders). Here the
// plain form-data; name="x" is read directly, anything else through the Part's own
// parsing, and the values pass through one buffer.
func multipartValues(r *http.Request) (url.Values, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	out := url.Values{}
	var buf bytes.Buffer
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if n == maxFormParts {
			return nil, errTooManyParts
		}
		name, ok := plainFieldName(p.Header.Get("Content-Disposition"))
		if !ok {
			name = p.FormName()
			if p.FileName() != "" {
				name = "" // a file: $_FILES, not $_POST
			}
		}
		buf.Reset()
		if _, err := buf.ReadFrom(p); err != nil {
			return nil, err
		}
		if name != "" {
			out[name] = append(out[name], buf.String())
		}
	}
}

// plainFieldName reads the name of a Content-Disposition that is exactly
// `form-data; name="x"` with no escapes and no file name; ok is false for any other
// shape, which mime.ParseMediaType then reads.
func plainFieldName(v string) (name string, ok bool) {
	rest, found := strings.CutPrefix(v, `form-data; name="`)
	if !found {
		return "", false
	}
	i := strings.IndexAny(rest, "\"\\")
	if i < 0 || rest[i] != '"' || i+1 != len(rest) {
		return "", false
	}
	return rest[:i], true
}

// readBody reads a raw request body under the size cap.
func readBody(c interface{ Request() *http.Request }) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errBodyTooLarge
	}
	return b, err
}

// adminFields reads an admin request's fields from its JSON object body, its form, or
// its query, in that order of precedence. JSON values are turned into text (numbers as
// written, booleans as true/false); an object value f becomes fields "f.key".
func adminFields(c echo.Context) (url.Values, error) {
	r := c.Request()
	out := url.Values{}
	for k, vs := range c.QueryParams() {
		out[k] = vs
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != echo.MIMEApplicationJSON {
		f, err := formValues(r)
		if err != nil {
			return nil, err
		}
		for k, vs := range f {
			out[k] = vs
		}
		return out, nil
	}
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return out, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fail(http.StatusBadRequest, "the body must be a JSON object: "+err.Error())
	}
	for k, raw := range obj {
		var sub map[string]json.RawMessage
		if json.Unmarshal(raw, &sub) == nil && sub != nil {
			for sk, sraw := range sub {
				out.Set(k+"."+sk, jsonText(sraw))
			}
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil && list != nil {
			out.Del(k)
			for _, e := range list {
				out.Add(k, jsonText(e))
			}
			continue
		}
		out.Set(k, jsonText(raw))
	}
	return out, nil
}

// jsonText is a JSON scalar as a form would carry it: a string's text, anything
// else as written (null as "").
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}
