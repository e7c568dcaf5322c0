package store

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

var updateEmpty = flag.Bool("update-empty", false, "rewrite store/empty-state.bolt from what Open makes")

// makeEmptyFile is what Open makes of a new file, without the embedded copy: a durable
// Open, so that the freelist is written and a durable store opens the copy without a
// commit.
func makeEmptyFile(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "empty.db")
	s, err := Open(path, func(o *options) { o.template = true })
	require.NoError(t, err)
	require.NoError(t, s.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// dump lists every bucket, key and value of a state file, nested buckets included.
func dump(t *testing.T, file []byte) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dump.db")
	require.NoError(t, os.WriteFile(path, file, 0o600))
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	var out []string
	var walk func(prefix string, b *bolt.Bucket)
	walk = func(prefix string, b *bolt.Bucket) {
		out = append(out, fmt.Sprintf("%s sequence=%d", prefix, b.Sequence()))
		b.ForEach(func(k, v []byte) error {
			if v == nil {
				walk(prefix+"/"+string(k), b.Bucket(k))
				return nil
			}
			out = append(out, fmt.Sprintf("%s/%q=%x", prefix, k, v))
			return nil
		})
	}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			walk(string(name), b)
			return nil
		})
	}))
	return out
}

// The embedded empty state file holds exactly what Open makes of a new file: every
// bucket at the current layout, nothing else.
func TestEmbeddedEmptyStateIsCurrent(t *testing.T) {
	made := makeEmptyFile(t)
	if *updateEmpty {
		require.NoError(t, os.WriteFile("empty-state.bolt", made, 0o644))
		emptyState = made
	}
	require.Equal(t, dump(t, made), dump(t, emptyState), "store/empty-state.bolt is stale: go test ./store -run EmbeddedEmptyState -update-empty")
}

// A new file, durable or not, starts from the copy and is a working store at once;
// an existing file is never replaced by it.
func TestNewFilesStartFromTheEmbeddedCopy(t *testing.T) {
	for name, opts := range map[string][]Option{"durable": nil, "no sync": {WithoutSync()}, "ephemeral": {Ephemeral()}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "s.db")
		s, err := Open(path, opts...)
		require.NoError(t, err, name)
		require.NoError(t, s.CreateDeposit(deposit("m", "A")), name)
		mustClean(t, s)
		require.NoError(t, s.Close(), name)

		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 1, "%s: no temporary file is left", name)

		s, err = Open(path, opts...) // exists now: opened, not replaced
		require.NoError(t, err, name)
		_, err = s.Order(gateway.KindDeposit, "m", "A")
		assert.NoError(t, err, name)
		require.NoError(t, s.Close(), name)
	}
}

// An empty file is refused like any other damaged file: no start of this binary
// leaves one (the new file's copy is synced before it takes the name).
func TestAnEmptyFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	_, err := Open(path)
	require.ErrorIs(t, err, ErrDamaged)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "empty (0 bytes)")
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Zero(t, st.Size(), "the file is left as it was")
}
