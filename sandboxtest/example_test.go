package sandboxtest_test

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/gateway"
	"github.com/vpay88/vpay88-sandbox/sandboxtest"
)

// A merchant's test of its checkout: make a deposit as the shop does, pay it as the
// customer would, and receive the signed callback. In a test, sandboxtest.New(t) starts
// the sandbox and stops it when the test ends; Start is the same outside a test.
func Example() {
	sb, err := sandboxtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()
	ctx := context.Background()

	// The shop's code: a deposit through the vendor API (sb.Client has the merchant's
	// credentials and gets an auth token first).
	res, err := sb.Client.GenerateOrder(ctx, client.DepositRequest{
		Username: "john", Amount: gateway.MustMoney("300"), Currency: "MYR",
		OrderID: "order-1001", Email: "john@example.com", PhoneNumber: "601012456789",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("the shop sends its customer to p_url:", res.PURL != "")

	// The customer pays.
	if err := sb.Pay("order-1001"); err != nil {
		log.Fatal(err)
	}

	// The gateway's callback reaches the shop. The Recorder answers only a callback
	// whose token verifies; the shop's own handler checks it the same way.
	cb, err := sb.Recorder.Wait("order-1001", 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cb.OrderID, cb.OrderStatus, cb.Amount, cb.Currency, "charge", cb.Charge)
	fmt.Println("token verified:", cb.Token == fmt.Sprintf("%x", md5.Sum([]byte(sb.SecretKey+cb.OrderID))))
	// Output:
	// the shop sends its customer to p_url: true
	// order-1001 completed 300.0000 MYR charge 9.0000
	// token verified: true
}

// A payout the bank refuses because the account holder's name does not match. The
// account number 4000000009 is a magic value that keeps the payout pending until it is
// settled (others complete after a short delay).
func ExampleSandbox_Settle() {
	sb, err := sandboxtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()
	_, err = sb.Client.WithdrawOrder(context.Background(), client.WithdrawalRequest{
		Amount: gateway.MustMoney("100"), Currency: "MYR", OrderID: "payout-7",
		BankID: "1", HolderName: "MR SUK THA", AccountNo: "4000000009",
	})
	if err != nil {
		log.Fatal(err)
	}
	err = sb.Settle(gateway.KindWithdrawal, "payout-7", gateway.OutcomeNameMismatch,
		sandboxtest.WithRemarks("Account Holder Name Mismatch (MR SUK THA != SUK THAWAR)"))
	if err != nil {
		log.Fatal(err)
	}
	cb, err := sb.Recorder.Wait("payout-7", 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cb.OrderStatus, cb.Remarks)
	// Output:
	// fail Account Holder Name Mismatch (MR SUK THA != SUK THAWAR)
}

// An "insufficient balance" test: the merchant's MYR balance set to 10 before a payout.
func ExampleSandbox_SetBalance() {
	sb, err := sandboxtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()
	if err := sb.SetBalance("MYR", "10"); err != nil {
		log.Fatal(err)
	}
	_, err = sb.Client.WithdrawOrder(context.Background(), client.WithdrawalRequest{
		Amount: gateway.MustMoney("100"), Currency: "MYR", OrderID: "payout-8",
		BankID: "1", HolderName: "John Doe", AccountNo: "12332343432",
	})
	fmt.Println(errors.Is(err, client.ErrBalanceNotEnough), err)
	// Output:
	// true vpay88: withdraw_orders: Balance not enough!
}
