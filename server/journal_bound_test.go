package server

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJournalByteBound fills a journal past its byte bound: the oldest entries go, the
// accounting never passes the bound, and it returns to zero on reset.
func TestJournalByteBound(t *testing.T) {
	j := newJournal(2000)
	j.maxBytes = 64 << 10
	for i := range 500 {
		j.add(JournalEntry{Endpoint: "/e", Message: "OK", Response: strings.Repeat("r", 1000), rawFields: "id=" + strings.Repeat("i", i)})
		_, b := j.usage()
		require.LessOrEqual(t, b, j.maxBytes)
	}
	n, b := j.usage()
	assert.Less(t, n, 500)
	assert.Positive(t, n)
	sum := 0
	got, total := j.list("", "", "", 0, 2000)
	require.Equal(t, n, total)
	for _, e := range got {
		sum += entryBytes(&e)
	}
	assert.Equal(t, b, sum, "the accounting is the sum of the live entries")
	assert.Equal(t, uint64(500), got[0].ID, "newest first")
	assert.Equal(t, uint64(500-n+1), got[len(got)-1].ID, "the oldest went first")

	// One entry larger than the bound is kept alone rather than dropped at once.
	j.add(JournalEntry{Response: strings.Repeat("x", 70<<10)})
	n, _ = j.usage()
	assert.Equal(t, 1, n)

	j.reset()
	n, b = j.usage()
	assert.Zero(t, n)
	assert.Zero(t, b)
}

func TestJournalCut(t *testing.T) {
	assert.Equal(t, "abc", cut("abc", 3))
	assert.Equal(t, "ab…[cut 2 bytes]", cut("abcd", 2))
	// Never inside a rune: 订 is three bytes.
	assert.Equal(t, "a…[cut 6 bytes]", cut("a订单", 3))
	assert.Equal(t, "a订…[cut 3 bytes]", cut("a订单", 4))

	v := url.Values{"id": {strings.Repeat("A", 5000)}, strings.Repeat("k", 3000): {"v"}}
	got := decodeFields(journalFields(v))
	assert.Equal(t, strings.Repeat("A", journalValueBytes)+"…[cut 2952 bytes]", got["id"])
	assert.Equal(t, "v", got[strings.Repeat("k", journalValueBytes)+"…[cut 952 bytes]"], "field names are cut too")

	// The recorded response keeps its first 8 KiB and counts the rest.
	rec := httptest.NewRecorder()
	tw := &teeWriter{ResponseWriter: rec}
	for range 10 {
		_, _ = tw.Write([]byte(strings.Repeat("z", 1000)))
	}
	assert.Equal(t, 10000, rec.Body.Len(), "the client gets the whole answer")
	assert.Equal(t, strings.Repeat("z", journalResponseBytes)+"…[cut 1808 bytes]", tw.response())
	small := &teeWriter{ResponseWriter: httptest.NewRecorder()}
	_, _ = small.Write([]byte(`{"status":true}`))
	assert.Equal(t, `{"status":true}`, small.response())
}
