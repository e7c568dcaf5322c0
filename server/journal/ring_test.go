package journal

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJournalRing checks the ring keeps the newest size entries, newest first, across
// the wrap and after a reset: the order list() had when add shifted the slice.
func TestJournalRing(t *testing.T) {
	j := New(5, nil)
	add := func(from, to int) {
		for i := from; i <= to; i++ {
			j.add(Entry{Endpoint: "/e" + strconv.Itoa(i), Message: "OK"})
		}
	}
	ids := func(es []Entry) []uint64 {
		out := []uint64{}
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}

	add(1, 3)
	got, total := j.List("", "", "", 0, 10)
	require.Equal(t, 3, total)
	require.Equal(t, []uint64{3, 2, 1}, ids(got))

	add(4, 12) // wraps more than once
	got, total = j.List("", "", "", 0, 10)
	require.Equal(t, 5, total)
	require.Equal(t, []uint64{12, 11, 10, 9, 8}, ids(got))
	require.Equal(t, "/e12", got[0].Endpoint)

	got, total = j.List("", "", "", 1, 2)
	require.Equal(t, 5, total)
	require.Equal(t, []uint64{11, 10}, ids(got))

	got, total = j.List("/e9", "", "", 0, 10)
	require.Equal(t, 1, total)
	require.Equal(t, []uint64{9}, ids(got))

	j.Reset()
	got, total = j.List("", "", "", 0, 10)
	require.Zero(t, total)
	require.Empty(t, got)
	add(13, 19) // ids keep counting after a reset, as before
	got, _ = j.List("", "", "", 0, 10)
	require.Equal(t, []uint64{19, 18, 17, 16, 15}, ids(got))
}
