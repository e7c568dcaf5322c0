package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
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
