package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzMultipartValues checks multipartValues against the standard library's
// ParseMultipartForm, which it replaces on the request path: the same body gives the
// same fields, or fails in both.
func FuzzMultipartValues(f *testing.F) {
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n1e3\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\nempty file name\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: Form-Data; NAME=\"up\"\r\n\r\nv\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"q\\\"x\"\r\n\r\nv\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"a\" \r\n\r\nv\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"qp\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n--X--\r\n")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nno name\r\n--X--\r\n")
	f.Add("X", "--X\nContent-Disposition: form-data; name=\"lf\"\n\nv\n--X--\n")
	f.Add("X", "garbage")
	f.Add("X", "--X\r\nContent-Disposition: form-data; name=\"cut\"\r\n\r\nno end")
	f.Fuzz(func(t *testing.T, boundary, body string) {
		ct := "multipart/form-data; boundary=" + boundary
		mine := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		mine.Header.Set("Content-Type", ct)
		got, gotErr := multipartValues(mine)

		std := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		std.Header.Set("Content-Type", ct)
		stdErr := std.ParseMultipartForm(maxBodyBytes)
		if std.MultipartForm != nil {
			defer std.MultipartForm.RemoveAll()
		}
		if (gotErr == nil) != (stdErr == nil) {
			t.Fatalf("errors differ: mine %v, ParseMultipartForm %v", gotErr, stdErr)
		}
		if gotErr != nil {
			return
		}
		want := std.PostForm
		if want == nil {
			want = url.Values{}
		}
		if got.Encode() != want.Encode() {
			t.Fatalf("fields differ:\nmine %q\nstd  %q", got, want)
		}
	})
}
