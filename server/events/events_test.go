package events

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHubStream opens a stream, publishes until the notice arrives (the stream
// subscribes just after its first flush), and checks Close ends the stream.
func TestHubStream(t *testing.T) {
	h := New()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case l := <-lines:
			got = strings.HasPrefix(l, "data: ")
			if got {
				require.Equal(t, `data: {"type":"order"}`, l)
			}
		case <-tick.C:
			h.Publish("order")
		case <-deadline:
			t.Fatal("no notice within 5 s")
		}
	}

	h.Close()
	for {
		select {
		case _, open := <-lines:
			if !open {
				return // the stream ended
			}
		case <-deadline:
			t.Fatal("Close did not end the stream")
		}
	}
}
