package server

import (
	"net/url"

	"github.com/labstack/echo/v4"
)

// exchange is what one request's middleware and handler tell each other: the
// handler names the merchant and the fields it read and the answer's message; the
// fault middleware notes the fault that hit it; journalAPI records it all. It is one
// typed record behind one key, where untyped context keys once let a writer and a
// reader disagree on a name or a type without a compiler to notice (91e7dc2).
type exchange struct {
	// Message is the answer's message for the journal and metrics ("": the HTTP
	// status text).
	Message string
	// Merchant is the merchant the request was made as (its username), when the
	// sandbox could tell.
	Merchant string
	// Fields are the request's fields as the handler read them.
	Fields url.Values
	// FaultNote is the journal's note of a fault that hit the request.
	FaultNote string
	// WorkFault is a matched rule's fault that lets the request do its work and then
	// alters its answer (slow, lost_answer, malformed).
	WorkFault *injectedError
}

// exchangeKey is the one context key of the sandbox: the request's exchange.
const exchangeKey = "vpay88.exchange"

// exchangeOf returns the request's exchange, made on first use: a request that
// nothing records (a page, an asset) costs no allocation.
func exchangeOf(c echo.Context) *exchange {
	if x, ok := c.Get(exchangeKey).(*exchange); ok {
		return x
	}
	x := &exchange{}
	c.Set(exchangeKey, x)
	return x
}
