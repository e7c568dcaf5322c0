package store

import (
	_ "embed"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// A store that starts on a new file starts from a copy of an empty state file embedded
// in the binary: buckets made, layout current, freelist written. Left to itself, bbolt
// creates a file with an fdatasync whatever its NoSync says, grows it with a truncate
// and an fsync, and the buckets cost a commit: four waits for the disk, 2.5 ms here,
// before the first answer. The copy costs one: it is synced before it is linked into
// place (an ephemeral store's is not), so that no crash leaves an empty file under the
// name, and an empty state file is refused as damaged like any other (checkFile): it
// was never one of ours. TestEmbeddedEmptyStateIsCurrent checks that the copy
// holds exactly what Open would have made (go test ./store -run EmbeddedEmptyState
// -update-empty rewrites it after a layout change).
//
//go:embed empty-state.bolt
var emptyState []byte

// startFromTemplate puts the empty state file at path when there is no file there. It
// is written under a temporary name and linked into place, so that another process
// starting on the same path sees no file or a whole one (bbolt's lock then tells them
// apart). Any failure leaves path alone: bbolt then creates the file itself.
func startFromTemplate(path string, sync bool) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".vpay88-sandbox-new-*")
	if err != nil {
		return
	}
	tmp := f.Name()
	_, err = f.Write(emptyState)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr == nil {
		// A failed link is another process that made it first, or a file system
		// that cannot link. Either way the temporary name goes; path keeps the file.
		os.Link(tmp, path)
	}
	os.Remove(tmp)
}
