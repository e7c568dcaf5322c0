package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

// A deposit from order to callback. The email's local part "success" is a magic value:
// the sandbox settles the order at once, as if the customer had paid.
func Example() {
	sb, err := sandboxtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()
	ctx := context.Background()

	c := client.New(sb.URL, client.WithCredentials("vpay88-test", "EPSOWM0eewwrwer0OfUo"))
	res, err := c.GenerateOrder(ctx, client.DepositRequest{ // gets a fresh auth token first
		Username: "john", Amount: gateway.MustMoney("300"), Currency: "MYR",
		OrderID: "Example_123", Email: "success@example.com", PhoneNumber: "601012456789",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("checkout page:", strings.HasPrefix(res.PURL, sb.URL+"/checkout/order-pay/"))

	cb, err := sb.Recorder.Wait("Example_123", 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cb.Type, cb.OrderID, cb.OrderStatus, cb.Amount, cb.Currency, "charge", cb.Charge)

	st, err := c.CheckStatus(ctx, "Example_123")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("check_status:", st.OrderStatus, st.Amount)
	// Output:
	// checkout page: true
	// deposit Example_123 completed 300.0000 MYR charge 9.0000
	// check_status: completed 300.0000
}

// Vendor refusals are *APIError values that match a sentinel per message.
func ExampleAPIError() {
	sb, err := sandboxtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()
	ctx := context.Background()

	order := client.DepositRequest{Username: "john", Amount: gateway.MustMoney("100"), Currency: "MYR",
		OrderID: "dup-1", Email: "john@example.com", PhoneNumber: "601012456789"}
	if _, err := sb.Client.GenerateOrder(ctx, order); err != nil {
		log.Fatal(err)
	}
	_, err = sb.Client.GenerateOrder(ctx, order)
	fmt.Println(errors.Is(err, client.ErrOrderIDExist))

	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Printf("%q %s\n", apiErr.Message, apiErr.Response.Body)
	}

	order.OrderID, order.Currency = "cur-1", "XXX"
	_, err = sb.Client.GenerateOrder(ctx, order)
	fmt.Println(err)
	// Output:
	// true
	// "Order ID Exist." {"status":false,"message":"Order ID Exist."}
	// vpay88: generate_orders: Currency invalid.
}

// The vendor's examples carry trailing commas; Unmarshal reads them.
func ExampleUnmarshal() {
	var v struct {
		Status  bool   `json:"status"`
		Message string `json:"message"`
	}
	err := client.Unmarshal([]byte(`{"status": true, "message": "Success",}`), &v)
	fmt.Println(v.Status, v.Message, err)
	// Output: true Success <nil>
}

// VerifyCallback checks token = md5(secret + order_id).
func ExampleVerifyCallback() {
	body := []byte(`{"order_id":"20073","amount":300.0000,"currency":"MYR","order_status":"completed",` +
		`"status":true,"charge":"9.0000","token":"` + gateway.Token("vpay88-test-secret", "20073") + `","name":"john doe","type":"deposit",}`)
	cb, err := client.VerifyCallback(body, "vpay88-test-secret")
	fmt.Println(cb.OrderID, cb.OrderStatus, err)

	_, err = client.VerifyCallback(body, "another-secret")
	fmt.Println(errors.Is(err, client.ErrBadToken))
	// Output:
	// 20073 completed <nil>
	// true
}

// A merchant's callback endpoint, wired as the sandbox merchant's callback URL: the
// handler verifies the token and answers "success"; a bad token would be answered 400
// and never reach the function.
func ExampleCallbackHandler() {
	paid := make(chan *client.Callback, 1)
	h := client.CallbackHandler("vpay88-test-secret", func(ctx context.Context, cb *client.Callback) error {
		paid <- cb // mark the order paid in the merchant's database
		return nil
	})
	merchant := httptest.NewServer(h)
	defer merchant.Close()

	sb, err := sandboxtest.Start(sandboxtest.WithConfig(func(c *config.Config) {
		c.Merchants[0].CallbackURL = merchant.URL
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()

	_, err = sb.Client.GenerateOrder(context.Background(), client.DepositRequest{Username: "john",
		Amount: gateway.MustMoney("25"), Currency: "MYR", OrderID: "A1", Email: "fail@example.com", PhoneNumber: "601012456789"})
	if err != nil {
		log.Fatal(err)
	}
	select {
	case cb := <-paid:
		fmt.Println(cb.OrderID, cb.OrderStatus, cb.Amount)
	case <-time.After(5 * time.Second):
		fmt.Println("no callback")
	}
	// Output: A1 fail 25.0000
}
