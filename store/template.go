package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// An ephemeral store (WithoutSync) that starts on a new file starts from a copy of an
// empty state file made once per process: bbolt fsyncs a file it creates, whatever its
// NoSync says, and that one fsync was most of what sandboxtest.New cost. The copy is
// written without fsync, as every later write of such a store is.

var (
	emptyOnce  sync.Once
	emptyBytes []byte
	emptyErr   error
)

// emptyFile returns the empty state file, made at the first call.
func emptyFile() ([]byte, error) {
	emptyOnce.Do(func() { emptyBytes, emptyErr = makeEmptyFile() })
	return emptyBytes, emptyErr
}

func makeEmptyFile() ([]byte, error) {
	dir, err := os.MkdirTemp("", "vpay88-sandbox-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "empty.db")
	s, err := Open(path, WithoutSync(), func(o *options) { o.template = true })
	if err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// startFromTemplate writes the empty state file at path when there is no file there.
// Any failure leaves path alone: bbolt then creates the file itself.
func startFromTemplate(path string) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	b, err := emptyFile()
	if err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	_, werr := f.Write(b)
	if cerr := f.Close(); werr != nil || cerr != nil {
		os.Remove(path)
	}
}
