package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

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
	switch ct {
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxBodyBytes)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	default:
		return url.Values{}, nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errBodyTooLarge
	}
	if err != nil || r.PostForm == nil {
		return url.Values{}, nil
	}
	return r.PostForm, nil
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
