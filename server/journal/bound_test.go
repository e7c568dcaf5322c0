package journal

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
	j := New(2000, nil)
	j.maxBytes = 64 << 10
	for i := range 500 {
		j.add(Entry{Endpoint: "/e", Message: "OK", Response: strings.Repeat("r", 1000), rawFields: "id=" + strings.Repeat("i", i)})
		_, b := j.Usage()
		require.LessOrEqual(t, b, j.maxBytes)
	}
	n, b := j.Usage()
	assert.Less(t, n, 500)
	assert.Positive(t, n)
	sum := 0
	got, total := j.List("", "", "", 0, 2000)
	require.Equal(t, n, total)
	for _, e := range got {
		sum += entryBytes(&e)
	}
	assert.Equal(t, b, sum, "the accounting is the sum of the live entries")
	assert.Equal(t, uint64(500), got[0].ID, "newest first")
	assert.Equal(t, uint64(500-n+1), got[len(got)-1].ID, "the oldest went first")

	// One entry larger than the bound is kept alone rather than dropped at once.
	j.add(Entry{Response: strings.Repeat("x", 70<<10)})
	n, _ = j.Usage()
	assert.Equal(t, 1, n)

	j.Reset()
	n, b = j.Usage()
	assert.Zero(t, n)
	assert.Zero(t, b)
}

func TestJournalCut(t *testing.T) {
	v := url.Values{"id": {strings.Repeat("A", 5000)}, strings.Repeat("k", 3000): {"v"}}
	got := decodeFields(encodeFields(v))
	assert.Equal(t, strings.Repeat("A", ValueBytes)+"…[cut 2952 bytes]", got["id"])
	assert.Equal(t, "v", got[strings.Repeat("k", ValueBytes)+"…[cut 952 bytes]"], "field names are cut too")

	// The recorded response keeps its first 8 KiB and counts the rest.
	rec := httptest.NewRecorder()
	tw := &Tee{ResponseWriter: rec}
	for range 10 {
		_, _ = tw.Write([]byte(strings.Repeat("z", 1000)))
	}
	assert.Equal(t, 10000, rec.Body.Len(), "the client gets the whole answer")
	assert.Equal(t, strings.Repeat("z", responseBytes)+"…[cut 1808 bytes]", tw.Response())
	small := &Tee{ResponseWriter: httptest.NewRecorder()}
	_, _ = small.Write([]byte(`{"status":true}`))
	assert.Equal(t, `{"status":true}`, small.Response())
}
