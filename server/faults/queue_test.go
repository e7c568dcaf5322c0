package faults

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// memStore is the store's meta records in memory.
type memStore map[string][]byte

func (m memStore) Meta(k string) ([]byte, error)    { return m[k], nil }
func (m memStore) PutMeta(k string, v []byte) error { m[k] = v; return nil }

// TestQueueKeptAcrossRestart queues a fault, hits it, and checks that the saver
// stores the hit count at shutdown and that a new queue over the same store has it.
func TestQueueKeptAcrossRestart(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	st := memStore{}
	saves := 0
	q := New(1, st, nil, func() { saves++ })
	f, err := Parse(url.Values{"kind": {"status"}, "status": {"502"}, "endpoint": {"check_status"}, "count": {"2"}, "match.orderid": {"A-*"}}, now,
		func(string) (string, error) { return "", nil })
	require.NoError(t, err)
	f, err = q.Add(f)
	require.NoError(t, err)
	q.Save()
	assert.Equal(t, 1, saves)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	miss := Request{Endpoint: gateway.EndpointCheckStatus, Fields: url.Values{"orderid": {"B-1"}}.Get}
	hit := Request{Endpoint: gateway.EndpointCheckStatus, Fields: url.Values{"orderid": {"A-1"}}.Get}
	_, ok := q.Hit(miss, now)
	assert.False(t, ok, "the pattern does not match")
	got, ok := q.Hit(hit, now)
	require.True(t, ok)
	assert.Equal(t, f.ID, got.ID)
	assert.Equal(t, 1, *got.Remaining)
	cancel()
	<-done

	again := New(1, st, nil, nil)
	require.NoError(t, again.Load(now))
	list := again.List(now)
	require.Len(t, list, 1)
	assert.Equal(t, 1, list[0].Hits, "the hit was stored")
	assert.True(t, again.Armed())
	_, ok = again.Hit(hit, now)
	require.True(t, ok)
	assert.False(t, again.Armed(), "spent after its count")
}

// TestParseRefusals: bad input is an *InputError that names the limit or the field.
func TestParseRefusals(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		fields url.Values
		want   string
	}{
		{"Endpoint", url.Values{"kind": {"status"}, "endpoint": {"nope"}}, `endpoint "nope" is not a vendor endpoint`},
		{"Probability", url.Values{"kind": {"status"}, "probability": {"NaN"}}, "probability must be a number above 0 and at most 1"},
		{"Pattern", url.Values{"kind": {"status"}, "match.id": {"["}}, `match.id: bad pattern "["`},
		{"Maintenance", url.Values{"kind": {"maintenance"}}, "a maintenance window is POST /sandbox/api/maintenance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.fields, now, func(string) (string, error) { return "", nil })
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, ie.Error(), tc.want)
		})
	}
}
