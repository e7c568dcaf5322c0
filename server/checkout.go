package server

import (
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/store"
	"github.com/vpay88/vpay88-sandbox/web"
)

// pages are parsed at the first checkout page, not at start-up, which a sandbox that
// serves only the API (CI) reaches sooner without them. Every page (these, the
// dashboard's, the proxy's) is rendered with the standard html/template, so Go's
// security fixes to its escaping reach the pages with the toolchain and govulncheck
// sees them (issue 20; a fork without method calls saved 2.7 MB of binary).
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(web.FS, "templates/checkout.html"))
})

// checkoutCSP is the checkout pages' Content-Security-Policy: no script at all, styles
// and images from the sandbox itself (the inline SVG icons are markup, not images),
// forms posted only to the sandbox. A payment page is where an injected script would
// do harm, and html/template's escaping is the first line; this is the second.
// form-action also binds the redirect that follows a form's POST (Chromium checks it),
// so the order's redirect_url origin is added where there is one (checkoutPolicy).
// No frame-ancestors: a shop may show p_url in a frame, and what the gateway allows
// there is not known.
const checkoutCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'"

// cspOrigin is an origin a policy may name: scheme, host, port; nothing that could
// end the directive or start another.
var cspOrigin = regexp.MustCompile(`^https?://[A-Za-z0-9.\-]+(:[0-9]+)?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// checkoutPolicy is checkoutCSP for a page of o (nil on error pages): the form may
// also lead to the origin of the order's redirect_url.
func checkoutPolicy(o *gateway.Order) string {
	if o == nil || o.RedirectURL == "" || !validRedirect(o.RedirectURL) {
		return checkoutCSP
	}
	u, _ := url.Parse(o.RedirectURL) // parsed by validRedirect
	origin := u.Scheme + "://" + u.Host
	if !cspOrigin.MatchString(origin) {
		return checkoutCSP
	}
	return checkoutCSP + " " + origin
}

// registerCheckoutRoutes mounts the hosted payment page at the path shape of the
// vendor's p_url (/checkout/order-pay/<number>/?pay_for_order=true&key=…).
func (s *Server) registerCheckoutRoutes(e *echo.Echo) {
	static, _ := fs.Sub(web.FS, "static")
	e.GET("/checkout/static/*", echo.WrapHandler(http.StripPrefix("/checkout/static/", http.FileServer(http.FS(static)))))
	e.GET("/checkout/order-pay/:number/", s.handleCheckoutPage)
	e.POST("/checkout/order-pay/:number/", s.handleCheckoutSubmit)
	e.GET("/checkout/order-received/:number/", s.handleCheckoutResult)
	// A browser asks for /favicon.ico beside any page without an icon of its own; a
	// 404 for it was a line in QA's journal per checkout view (issue 21). The pages
	// link it, and the answer is cached for a day.
	e.GET("/favicon.ico", func(c echo.Context) error {
		b, err := fs.ReadFile(web.FS, "static/favicon.ico")
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		return c.Blob(http.StatusOK, "image/x-icon", b)
	})
}

type pageData struct {
	Title       string
	Message     string // of an error page
	Order       *gateway.Order
	Amount      string
	Created     string
	Settled     bool
	MethodTitle string
	Options     []string
	ActionURL   string
	ResultURL   string
	PayURL      string
	// Outcome is the settled status in words: "completed", "failed", "pending".
	Outcome string
	// SettledLine says on the payment page that the order is settled already.
	SettledLine string
	// Channel is how the customer pays (Online banking, QR, E-wallet): the
	// channel of the order's bank_code or pay_method, else the merchant account's.
	Channel string
	// QR, for a QR pay_method or bank_code, is a QR code's modules (QRSize by
	// QRSize) the tester clicks to "scan" and pay.
	QR     []qrCell
	QRSize int
}

// outcomeWords are the statuses as a sentence says them; the vendor's status "fail"
// reads badly in "Payment fail".
var outcomeWords = map[gateway.Status]string{
	gateway.StatusCompleted: "completed", gateway.StatusFail: "failed",
	gateway.StatusRejected: "rejected", gateway.StatusPending: "pending",
}

// settledLines is what the payment page says about an order settled already.
var settledLines = map[gateway.Status]string{
	gateway.StatusCompleted: "This order is already completed.",
	gateway.StatusFail:      "This order has already failed.",
	gateway.StatusRejected:  "This order has already been rejected.",
}

// errNoOrder is the checkout's answer to an unknown number or a wrong key: the same
// 404 page for both, so a page key cannot be guessed one order at a time.
var errNoOrder = fail(http.StatusNotFound, "Order not found")

// checkoutOrder finds a deposit by number and key, or refuses with errNoOrder.
func (s *Server) checkoutOrder(c echo.Context, key string) (*gateway.Order, error) {
	n, err := strconv.ParseUint(c.Param("number"), 10, 64)
	if err != nil {
		return nil, errNoOrder
	}
	o, err := s.store.OrderByNumber(n)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errNoOrder
	case err != nil:
		return nil, err
	case o.Kind != gateway.KindDeposit || key == "" || o.Key != key:
		return nil, errNoOrder
	}
	return o, nil
}

func (s *Server) render(c echo.Context, code int, name string, d pageData) error {
	var b strings.Builder
	if err := pages().ExecuteTemplate(&b, name, d); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", checkoutPolicy(d.Order))
	h.Set("X-Content-Type-Options", "nosniff")
	return c.HTML(code, b.String())
}

func (s *Server) pageData(o *gateway.Order) pageData {
	num := strconv.FormatUint(o.Number, 10)
	q := "?pay_for_order=true&key=" + url.QueryEscape(o.Key)
	// Exact: an order of 49999.9999 is shown as that, not as 49999.99.
	amount := o.Amount.Exact(2)
	d := pageData{
		Title: "Pay " + o.Currency + " " + amount, Order: o, Amount: amount,
		Outcome: outcomeWords[o.Status], SettledLine: settledLines[o.Status],
		Created: o.CreatedAt.In(time.Local).Format(gateway.DateTimeLayout), Settled: o.Settled(),
		ActionURL: "/checkout/order-pay/" + num + "/",
		ResultURL: resultURL(o),
		PayURL:    "/checkout/order-pay/" + num + "/" + q,
	}
	d.MethodTitle, d.Options = s.paymentOptions(o)
	ch := gateway.OrderChannel(o.BankCode, o.PayMethod)
	if ch == "" {
		ch = o.PaymentType
	}
	d.Channel = gateway.ChannelLabel(ch)
	if gateway.QRPayMethod(o.PayMethod) || gateway.OrderChannel(o.BankCode, "") == gateway.PaymentTypeDuitNow {
		d.QR, d.QRSize = qrModules(o.Currency+" "+amount+" "+o.Key), qrSize+4 // a quiet zone of two modules
	}
	return d
}

// resultURL is the page a payment lands on when the order has no redirect_url.
func resultURL(o *gateway.Order) string {
	return "/checkout/order-received/" + strconv.FormatUint(o.Number, 10) + "/?key=" + url.QueryEscape(o.Key)
}

// paymentOptions lists the ways to pay that fit the order, as the vendor's flows
// describe them: MYR online banking or the chosen telco; THB and IDR the bank chosen
// through bank_list; VND bank transfer.
//
// The family's pay_method and bank_code choose more (docs/fidelity.md, family): a QR to scan (thaiqr,
// duitnowqr, MayBankQR, DuitNowQR), an e-wallet (truemoney, Tng, GrabPay, Boost).
// Bank names come from the merchant's own list for the currency when it has one.
func (s *Server) paymentOptions(o *gateway.Order) (string, []string) {
	banks := s.banks[o.Currency]
	if m := s.merchant(o.Merchant); m != nil {
		banks = s.depositBanks(m, o.Currency)
	}
	switch {
	case o.Mode != "":
		return "Pay with prepaid credit", []string{o.Mode}
	case o.PayMethod == gateway.PayMethodThaiQR:
		return "Scan to pay (Thai QR PromptPay)", []string{"Thai QR"}
	case o.PayMethod == gateway.PayMethodDuitNowQR:
		return "Scan to pay (DuitNow QR)", []string{"DuitNow QR"}
	case o.PayMethod == gateway.PayMethodTrueMoney:
		return "Pay with TrueMoney Wallet", []string{"TrueMoney Wallet"}
	case o.BankCode != "" && gateway.OrderChannel(o.BankCode, "") == gateway.PaymentTypeDuitNow:
		return "Scan to pay (DuitNow QR)", []string{o.BankCode}
	case o.BankCode != "" && gateway.OrderChannel(o.BankCode, "") == gateway.PaymentTypeEwallet:
		return "Pay with your e-wallet", []string{o.BankCode}
	case o.BankName != "":
		return "Pay from your bank", []string{o.BankName}
	case o.Currency == "VND":
		return "Bank transfer", bankNames(banks, 6)
	case o.Currency == "MYR":
		return "Online banking (FPX)", bankNames(banks, 6)
	default:
		return "Bank transfer", bankNames(banks, 6)
	}
}

func bankNames(bs []gateway.Bank, n int) []string {
	var out []string
	for i, b := range bs {
		if i == n {
			break
		}
		out = append(out, b.Name)
	}
	return out
}

func (s *Server) handleCheckoutPage(c echo.Context) error {
	o, err := s.checkoutOrder(c, c.QueryParam("key"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "checkout", s.pageData(o))
}

func (s *Server) handleCheckoutSubmit(c echo.Context) error {
	f, err := formValues(c.Request())
	if err != nil {
		return err
	}
	o, err := s.checkoutOrder(c, f.Get("key"))
	if err != nil {
		return err
	}
	var kind gateway.OutcomeKind
	switch f.Get("action") {
	case "pay":
		kind = gateway.OutcomeCompleted
	case "fail":
		kind = gateway.OutcomeFail
	default: // leave pending
	}
	if kind != "" {
		name := strings.TrimSpace(f.Get("name"))
		if err := gateway.CheckField("name", name); err != nil {
			return fail(http.StatusBadRequest, "The name on the account is not accepted: "+err.Error())
		}
		// The amount paid belongs to a payment; a tester who typed one and then
		// chose Fail has it ignored.
		v := ""
		if kind == gateway.OutcomeCompleted {
			v = strings.TrimSpace(f.Get("paid_amount"))
		}
		paid, err := paidField(v, o.Kind, kind)
		if err != nil {
			return fail(http.StatusBadRequest, "The amount paid is not accepted: "+err.Error())
		}
		settled, err := s.settle(o.Kind, o.Merchant, o.OrderID, gateway.Outcome{Kind: kind, Name: name, Source: "checkout", Paid: paid})
		if err != nil && !errors.Is(err, store.ErrAlreadySettled) {
			return err
		}
		if settled != nil {
			o = settled
		}
	}
	if o.RedirectURL != "" && validRedirect(o.RedirectURL) {
		return c.Redirect(http.StatusSeeOther, o.RedirectURL)
	}
	return c.Redirect(http.StatusSeeOther, resultURL(o))
}

// validRedirect only follows http(s) URLs, so a javascript: URL sent as redirect_url
// cannot run in the tester's browser.
func validRedirect(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (s *Server) handleCheckoutResult(c echo.Context) error {
	o, err := s.checkoutOrder(c, c.QueryParam("key"))
	if err != nil {
		return err
	}
	d := s.pageData(o)
	d.Title = "Payment " + d.Outcome
	return s.render(c, http.StatusOK, "result", d)
}
