package store

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// TestADamagedReadRefusesWrites: once a read finds a damaged record, every write is
// refused with an error that names the file and what to do, the store says so once
// at ERROR, and what is whole stays readable.
func TestADamagedReadRefusesWrites(t *testing.T) {
	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, WithoutSync(), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.CreateDeposit(deposit("m", "A")))
	bad := deposit("m", "B")
	require.NoError(t, s.CreateDeposit(bad))
	require.NoError(t, s.DB().Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNumbers).Put(u64(bad.Number), []byte(`{"kind":"deposit","amount":`))
	}))
	require.NoError(t, s.CreateDeposit(deposit("m", "C")), "nothing has read the damage yet")

	for i := 0; i < 3; i++ {
		_, err = s.Order(gateway.KindDeposit, "m", "B")
		require.ErrorIs(t, err, ErrCorrupt)
	}
	err = s.CreateDeposit(deposit("m", "D"))
	require.ErrorIs(t, err, ErrDamaged)
	assert.Contains(t, err.Error(), "state file "+path+" is damaged")
	assert.Contains(t, err.Error(), "writes are refused")
	_, err = s.SetBalance("m", "MYR", gateway.MustMoney("1"))
	require.ErrorIs(t, err, ErrDamaged)

	_, err = s.Order(gateway.KindDeposit, "m", "A")
	assert.NoError(t, err, "what is whole stays readable")
	_, err = s.Order(gateway.KindDeposit, "m", "D")
	assert.ErrorIs(t, err, ErrNotFound, "the refused write left no trace")
	assert.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), logs.String())
	assert.Contains(t, logs.String(), "state file damaged: refusing writes")
}
