package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// checkoutBrowser starts one headless Chromium for a test, with a fresh profile, and
// returns its first tab; the browser closes with the test. The browser context has no
// timeout (a timeout on the first Run would bound the whole browser); each step gets
// its own through step.
func checkoutBrowser(t *testing.T) context.Context {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(t)...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(bctx), "start Chromium")
	return bctx
}

// newTab opens a tab in the test's browser; it closes with the subtest.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx))
	return ctx
}

// step runs actions with a bound of 20 s, so a missing element fails the test
// instead of hanging it.
func step(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(sctx, actions...))
}

// value runs one action that returns a value, bounded like step.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	require.NoError(t, err)
	return v
}

// screenshotDir is $VPAY88_SCREENSHOTS when set (kept for people to look at), else
// "": screenshots assert nothing, and two full-page captures per step were a third
// of the browser tests' time, so a plain run takes none.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("VPAY88_SCREENSHOTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return ""
}

// screenshots saves the current page at a phone's width (390x844, as a mobile
// browser lays it out) and a laptop's (1280x800), full length, as <name>-phone.png
// and <name>-desktop.png.
func screenshots(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	for _, v := range []struct {
		suffix string
		w, h   int64
		opts   []chromedp.EmulateViewportOption
	}{
		{"phone", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch}},
		{"desktop", 1280, 800, []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}},
	} {
		step(t, ctx, chromedp.EmulateViewport(v.w, v.h, v.opts...), chromedp.Sleep(150*time.Millisecond))
		png := value(t, ctx, chromedp.FullScreenshot(100))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+"-"+v.suffix+".png"), png, 0o644))
	}
}

// TestCheckoutBrowser drives the hosted checkout page in headless Chromium: pay and
// land on the merchant's redirect_url with the callback sent, fail to the result page,
// leave pending, wrong keys, and HTML escaping.
func TestCheckoutBrowser(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL))
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><title>Shop</title><h1 id="thanks">Thanks, back at the shop</h1>`)
	}))
	t.Cleanup(shop.Close)
	browser := checkoutBrowser(t)
	dir := screenshotDir(t)

	t.Run("PayThenRedirect", func(t *testing.T) {
		ctx := newTab(t, browser)
		back := shop.URL + "/return?order=BR-PAY-1"
		m := e.Deposit(t, "BR-PAY-1", map[string]string{"redirect_url": back, "username": "nur.aisyah"})
		pURL := m["p_url"].(string)
		step(t, ctx, chromedp.Navigate(pURL), chromedp.WaitVisible(chromedp.ID("pay")))
		assert.Equal(t, "MYR 100.00", value(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid=amount]`))))
		assert.Equal(t, "BR-PAY-1", value(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid=orderid]`))))
		assert.Contains(t, value(t, ctx, chromedp.Text(chromedp.CSS("form"))), "Online banking")
		screenshots(t, ctx, dir, "checkout-myr")

		step(t, ctx,
			chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Nur Aisyah"),
			chromedp.Click(chromedp.ID("pay")),
			chromedp.WaitVisible(chromedp.ID("thanks")),
		)
		assert.Equal(t, back, value(t, ctx, chromedp.Location()), "the browser lands on redirect_url")

		cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
		assert.Equal(t, "BR-PAY-1", cb["order_id"])
		assert.Equal(t, "completed", cb["order_status"])
		assert.Equal(t, "Nur Aisyah", cb["name"], "the name typed on the page")
		assert.Equal(t, md5hex(testSecret+"BR-PAY-1"), cb["token"])
		assert.Equal(t, "completed", e.status(t, gateway.KindDeposit, "BR-PAY-1")["order_status"])

		// Back to the payment link: the order is paid, the page says so and offers no
		// buttons; paying again by a replayed POST changes nothing.
		step(t, ctx, chromedp.Navigate(pURL), chromedp.WaitVisible(chromedp.CSS(".result")))
		assert.Contains(t, value(t, ctx, chromedp.Text(chromedp.CSS(".result h2"))), "already completed")
		n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#pay").length`))
		assert.Equal(t, 0, n)
		screenshots(t, ctx, dir, "checkout-paid")
		path, key := checkoutKey(t, pURL)
		resp, err := noRedirect.PostForm(e.URL+path, url.Values{"key": {key}, "action": {"fail"}})
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, back, resp.Header.Get("Location"))
		// The replayed POST is answered after whatever it stored: a second callback
		// would be in the order's callback log now.
		assert.Len(t, e.adminOrder(t, gateway.KindDeposit, "BR-PAY-1").Callbacks, 1, "no second callback")
		assert.Equal(t, "completed", e.status(t, gateway.KindDeposit, "BR-PAY-1")["order_status"])
	})

	t.Run("FailToResultPage", func(t *testing.T) {
		ctx := newTab(t, browser)
		m := e.Deposit(t, "BR-FAIL-1", map[string]string{"amount": "25.5"})
		step(t, ctx,
			chromedp.Navigate(m["p_url"].(string)),
			chromedp.WaitVisible(chromedp.ID("fail")),
			chromedp.Click(chromedp.ID("fail")),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=status]`)),
		)
		assert.Equal(t, "Payment failed", value(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid=status]`))))
		assert.Contains(t, value(t, ctx, chromedp.Location()), "/checkout/order-received/")
		cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
		assert.Equal(t, "BR-FAIL-1", cb["order_id"])
		assert.Equal(t, "fail", cb["order_status"])
		screenshots(t, ctx, dir, "result-fail")
	})

	t.Run("LeavePending", func(t *testing.T) {
		ctx := newTab(t, browser)
		m := e.Deposit(t, "BR-PEND-1", nil)
		step(t, ctx,
			chromedp.Navigate(m["p_url"].(string)),
			chromedp.WaitVisible(chromedp.ID("pending")),
			chromedp.Click(chromedp.ID("pending")),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=status]`)),
		)
		assert.Equal(t, "Payment pending", value(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid=status]`))))
		screenshots(t, ctx, dir, "result-pending")
		// The result page leads back to the payment page, which still pays.
		step(t, ctx,
			chromedp.Click(chromedp.CSS(`.result a`)),
			chromedp.WaitVisible(chromedp.ID("pay")),
			chromedp.Click(chromedp.ID("pay")),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=status]`)),
		)
		assert.Equal(t, "Payment completed", value(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid=status]`))))
		cb := decode(t, rc.wait(t, 1, 5*time.Second)[0].Body)
		assert.Equal(t, "BR-PEND-1", cb["order_id"])
		screenshots(t, ctx, dir, "result-completed")
	})

	t.Run("WrongKey404", func(t *testing.T) {
		ctx := newTab(t, browser)
		m := e.Deposit(t, "BR-KEY-1", nil)
		path, key := checkoutKey(t, m["p_url"].(string))
		for _, u := range []string{
			e.URL + path + "?pay_for_order=true&key=wrong" + key,
			e.URL + path + "?pay_for_order=true",
			e.URL + "/checkout/order-pay/999999/?pay_for_order=true&key=" + key,
			e.URL + "/checkout/order-received/999999/?key=" + key,
		} {
			resp, err := http.Get(u)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, u)
			assert.Contains(t, resp.Header.Get("Content-Type"), "text/html", u)
			assert.Contains(t, string(body), "Order not found", u)
		}
		resp := value(t, ctx, chromedp.NavigateResponse(e.URL+path+"?pay_for_order=true&key=wrong"))
		assert.Equal(t, int64(http.StatusNotFound), resp.Status)
		step(t, ctx, chromedp.WaitVisible(chromedp.CSS(".result h2")))
		assert.Equal(t, "Order not found", value(t, ctx, chromedp.Text(chromedp.CSS(".result h2"))))
		screenshots(t, ctx, dir, "notfound")
		// A POST with a wrong key settles nothing.
		resp2, err := noRedirect.PostForm(e.URL+path, url.Values{"key": {"wrong"}, "action": {"pay"}})
		require.NoError(t, err)
		resp2.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp2.StatusCode)
		assert.Equal(t, "pending", e.status(t, gateway.KindDeposit, "BR-KEY-1")["order_status"])
	})

	t.Run("XSSEscaped", func(t *testing.T) {
		ctx := newTab(t, browser)
		var dialogs atomic.Int32
		events := chromedp.Events(ctx, page.JavascriptDialogOpening)
		go func() {
			for _, err := range events {
				if err != nil {
					return
				}
				dialogs.Add(1)
				// Close it, so a dialog cannot block the page and hang the test.
				_ = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
					return err
				}))
			}
		}()
		probe := `<script>alert(1)</script>`
		orderID := `XSS-"><img src=x onerror="window.__xss=1">`
		m := e.Deposit(t, orderID, map[string]string{"username": probe, "phone_number": `"><svg onload=alert(2)>`})
		step(t, ctx, chromedp.Navigate(m["p_url"].(string)), chromedp.WaitVisible(chromedp.ID("pay")))
		assert.Equal(t, probe, value(t, ctx, chromedp.Evaluate[string](
			`[...document.querySelectorAll(".details dt")].find(d => d.textContent === "Customer").nextElementSibling.textContent`)),
			"the customer name is shown as text")
		assert.Equal(t, orderID, value(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid=orderid]`))))
		assert.Equal(t, 0, value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("script, img, [onerror], [onload]").length`)), "no element was injected")
		assert.Equal(t, "undefined", value(t, ctx, chromedp.Evaluate[string](`typeof window.__xss`)))

		// The payer name typed on the page comes back on the result page, escaped too.
		step(t, ctx,
			chromedp.SendKeys(chromedp.CSS(`input[name=name]`), `<img src=x onerror="window.__xss=2">`),
			chromedp.Click(chromedp.ID("pay")),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=status]`)),
		)
		assert.Contains(t, value(t, ctx, chromedp.Text(chromedp.CSS(".result"))), `Paid by <img src=x onerror="window.__xss=2">`)
		assert.Equal(t, 0, value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("script, img, [onerror], [onload]").length`)))
		assert.Equal(t, "undefined", value(t, ctx, chromedp.Evaluate[string](`typeof window.__xss`)))
		assert.Equal(t, int32(0), dialogs.Load(), "no alert() ran")
		rc.wait(t, 1, 5*time.Second)
	})

	t.Run("ContentSecurityPolicy", func(t *testing.T) {
		// The page works under its policy: the stylesheet applies, the form posts and
		// is redirected to the shop (form-action names its origin), and the browser
		// reports no violation; an inline script or style added later is refused.
		ctx := newTab(t, browser)
		var mu sync.Mutex
		var logged []string
		messages := chromedp.Console(ctx)
		go func() {
			for m, err := range messages {
				if err != nil {
					return
				}
				mu.Lock()
				logged = append(logged, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}()
		back := shop.URL + "/return?order=BR-CSP-1"
		m := e.Deposit(t, "BR-CSP-1", map[string]string{"redirect_url": back})
		step(t, ctx, chromedp.Navigate(m["p_url"].(string)), chromedp.WaitVisible(chromedp.ID("pay")))
		assert.NotEqual(t, "rgba(0, 0, 0, 0)", value(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".bar")).backgroundColor`)),
			"checkout.css applies under style-src 'self'")
		assert.Equal(t, "undefined", value(t, ctx, chromedp.Evaluate[string](`(() => {
			const s = document.createElement("script"); s.textContent = "window.__inline = 1"; document.head.append(s);
			const st = document.createElement("style"); st.textContent = ".bar{display:none}"; document.head.append(st);
			return typeof window.__inline; })()`)), "an inline script runs under the policy")
		assert.NotEqual(t, "none", value(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".bar")).display`)),
			"an inline style applies under the policy")
		// The browser reports a violation on the console after the fact: wait for the
		// two, a bounded while.
		var violations []string
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			violations = violations[:0]
			for _, l := range logged {
				if strings.Contains(l, "Content Security Policy") {
					violations = append(violations, l)
				}
			}
			mu.Unlock()
			if len(violations) >= 2 || time.Now().After(deadline) {
				break
			}
		}
		assert.Len(t, violations, 2, "the two injected elements, and nothing of the page: %q", violations)
		step(t, ctx, chromedp.Click(chromedp.ID("pay")), chromedp.WaitVisible(chromedp.ID("thanks")))
		assert.Equal(t, back, value(t, ctx, chromedp.Location()), "the redirect after the form's POST is allowed")
		rc.wait(t, 1, 5*time.Second)
		// The browser took the page's icon: no /favicon.ico 404 in the journal.
		var j struct {
			Entries []struct {
				Endpoint string `json:"endpoint"`
			} `json:"entries"`
		}
		getJSON(t, e.URL+"/sandbox/api/journal?limit=500", &j)
		for _, en := range j.Entries {
			assert.NotContains(t, en.Endpoint, "favicon", "the journal lists an icon request")
		}
	})

	t.Run("JavascriptRedirectIgnored", func(t *testing.T) {
		ctx := newTab(t, browser)
		m := e.Deposit(t, "BR-JS-1", map[string]string{"redirect_url": "javascript:window.__xss=3"})
		step(t, ctx,
			chromedp.Navigate(m["p_url"].(string)),
			chromedp.WaitVisible(chromedp.ID("pay")),
			chromedp.Click(chromedp.ID("pay")),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=status]`)),
		)
		assert.Contains(t, value(t, ctx, chromedp.Location()), "/checkout/order-received/", "a javascript: redirect_url is not followed")
		assert.Equal(t, "undefined", value(t, ctx, chromedp.Evaluate[string](`typeof window.__xss`)))
		rc.wait(t, 1, 5*time.Second)
	})

	t.Run("PaymentOptions", func(t *testing.T) {
		ctx := newTab(t, browser)
		for _, c := range []struct {
			id     string
			fields map[string]string
			title  string
			option string
		}{
			{"BR-TELCO", map[string]string{"mode": "DIGI", "amount": "25"}, "Pay with prepaid credit", "DIGI"},
			{"BR-THB", map[string]string{"currency": "THB", "bank_id": "3", "amount": "1500"}, "Pay from your bank", "Kasikorn Bank"},
			{"BR-VND", map[string]string{"currency": "VND", "amount": "250000"}, "Bank transfer", "Techcom Bank"},
		} {
			m := e.Deposit(t, c.id, c.fields)
			step(t, ctx, chromedp.Navigate(m["p_url"].(string)), chromedp.WaitVisible(chromedp.ID("pay")))
			assert.Equal(t, c.title, value(t, ctx, chromedp.Text(chromedp.CSS("form h2"))), c.id)
			opts := value(t, ctx, chromedp.Text(chromedp.CSS(".options")))
			assert.Contains(t, opts, c.option, c.id)
			screenshots(t, ctx, dir, "checkout-"+strings.ToLower(strings.TrimPrefix(c.id, "BR-")))
			v := e.adminOrder(t, gateway.KindDeposit, c.id)
			assert.Equal(t, "pending", v.Status, c.id)
			assert.Empty(t, v.Callbacks, "%s: showing the page sends no callback", c.id)
		}
	})
}

// TestCheckoutBrowserQRAndPaidAmount: a QR pay method shows a QR code that the tester
// clicks to "scan" and pay; the Amount paid field makes the callback carry another
// amount.
func TestCheckoutBrowserQRAndPaidAmount(t *testing.T) {
	rc := newRecorder(t, nil)
	e := MustOpenEnv(t, withCallback(rc.URL))
	browser := checkoutBrowser(t)
	dir := screenshotDir(t)

	ctx := newTab(t, browser)
	m := e.Deposit(t, "BR-QR-1", map[string]string{"currency": "THB", "bank_id": "1", "pay_method": "thaiqr"})
	step(t, ctx, chromedp.Navigate(m["p_url"].(string)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=qr] svg`)))
	assert.Equal(t, "QR", value(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid=channel]`))))
	assert.Greater(t, value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=qr] rect").length`)), 100, "a QR code's modules")
	screenshots(t, ctx, dir, "checkout-qr")
	step(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=qr]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=status]`)))
	assert.Equal(t, "Payment completed", value(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid=status]`))))
	cb := merchantSide(t, rc.wait(t, 1, 5*time.Second)[0], bySecret(testSecret))
	assert.Equal(t, "completed", cb["order_status"], "the click paid")

	ctx = newTab(t, browser)
	m = e.Deposit(t, "BR-PAID-1", map[string]string{"amount": "300"})
	step(t, ctx, chromedp.Navigate(m["p_url"].(string)), chromedp.WaitVisible(chromedp.ID("pay")),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=paid_amount]`), "90%"),
		chromedp.Click(chromedp.ID("pay")), chromedp.WaitVisible(chromedp.CSS(`[data-testid=status]`)))
	d := rc.wait(t, 1, 5*time.Second)[0]
	assert.Contains(t, string(d.Body), `"amount":270.0000,`, "90 % of 300 paid")
}
