package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrDamaged wraps every error of a state file that cannot be read: truncated,
// overwritten, or not a state file at all.
var ErrDamaged = errors.New("damaged state file")

// ErrInUse is a state file that another process holds open.
var ErrInUse = errors.New("state file in use")

// ErrIsDir is a state file path that names a directory.
var ErrIsDir = errors.New("state file path is a directory")

// lockTimeout is how long Open waits for another process to release the file lock.
const lockTimeout = time.Second

// openDB opens the bbolt file after checking that it can be opened safely. bbolt maps
// the file and trusts its meta page: a file truncated below the pages that meta page
// names crashes the process (SIGSEGV, SIGBUS, "invalid freelist page") at the first
// read. checkFile refuses such a file before bbolt sees it; for what slips past it, a
// fault while opening becomes an error (debug.SetPanicOnFault) instead of a crash.
func openDB(path string, noSync bool) (db *bolt.DB, err error) {
	if err := checkFile(path); err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, damaged(path, fmt.Errorf("%w: %v", ErrDamaged, p))
		}
	}()
	// NoSync from the start: the buckets of a fresh file are made in a transaction
	// of their own, which an ephemeral sandbox need not fsync either.
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, NoSync: noSync, NoFreelistSync: noSync, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("state file %s is in use by another process (another vpay88-sandbox?): stop it, or start this one with another --data: %w", path, ErrInUse)
	}
	if err != nil {
		if perr := plain(path, err); perr != nil {
			return nil, perr
		}
		return nil, damaged(path, err)
	}
	return db, nil
}

// plain words the errors of a path that is not a damaged file (no permission, no such
// directory) as what they are, with what to do; nil for any other error. Issue 21: all
// of them said "damaged state file … restore a copy of it".
func plain(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("state file %s: permission denied: the user this sandbox runs as must be able to read and write it, and to create files in its directory; change their owner or mode, or give another --data: %w", path, err)
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		return fmt.Errorf("state file %s: its directory %s does not exist: create it (mkdir -p %s), or give another --data: %w", path, dir, dir, err)
	}
	return nil
}

// safeView and safeUpdate run a transaction with faults in mapped memory turned into
// errors: Open's first reads touch pages a damaged file may not have.
func safeView(db *bolt.DB, fn func(*bolt.Tx) error) error { return safeTx(db.View, fn) }

func safeUpdate(db *bolt.DB, fn func(*bolt.Tx) error) error { return safeTx(db.Update, fn) }

func safeTx(run func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrDamaged, p)
		}
	}()
	return run(fn)
}

// damaged words an error of a state file as one line that names the file, says what
// is wrong and what to do.
func damaged(path string, err error) error {
	if errors.Is(err, ErrInUse) {
		return err
	}
	if !errors.Is(err, ErrDamaged) {
		err = fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return fmt.Errorf("state file %s cannot be read (%w): restore a copy of it, or start on a fresh file with another --data", path, err)
}

// The layout of a bbolt meta page (go.etcd.io/bbolt internal/common/meta.go): a
// 16-byte page header, then magic, version, page size, flags, the root bucket (root
// page, sequence), the freelist page, the high-water page id, the txid and an FNV-64a
// checksum of everything before it.
const (
	pageHeaderSize = 16
	metaSize       = 64
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
)

type metaPage struct {
	pageSize uint32
	pgid     uint64 // high-water mark: pages [0, pgid) are in use
	txid     uint64
}

// readMeta decodes the meta page at off; ok is false when it is not a valid one.
func readMeta(f *os.File, off int64) (metaPage, bool) {
	buf := make([]byte, pageHeaderSize+metaSize)
	if _, err := f.ReadAt(buf, off); err != nil {
		return metaPage{}, false
	}
	m := buf[pageHeaderSize:]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
		return metaPage{}, false
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return metaPage{}, false
	}
	return metaPage{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}

// checkFile refuses a file that bbolt would crash on: a non-empty file whose meta
// pages are both invalid (random bytes, another format), or one shorter than the pages
// its newest valid meta page uses (a truncated copy). A missing or empty file is new.
func checkFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("state file %s is a directory: --data names the file itself, e.g. %s: %w", path, filepath.Join(path, "sandbox.db"), ErrIsDir)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // a new file; a missing directory is bbolt's to find (plain)
	}
	if err != nil {
		if perr := plain(path, err); perr != nil {
			return perr
		}
		return fmt.Errorf("state file %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	size := st.Size()
	if size == 0 {
		// Never one of ours: a new file is the embedded empty state, synced before
		// it takes the name (template.go), or bbolt's own, made within one Open.
		return damaged(path, fmt.Errorf("%w: empty (0 bytes); a state file is never empty, not even a new one", ErrDamaged))
	}
	m0, ok0 := readMeta(f, 0)
	var m1 metaPage
	ok1 := false
	if ok0 {
		m1, ok1 = readMeta(f, int64(m0.pageSize))
	} else {
		// The first meta page is gone: try the second at the usual page sizes.
		for _, ps := range []int64{4096, 8192, 16384, 65536} {
			if m1, ok1 = readMeta(f, ps); ok1 && int64(m1.pageSize) == ps {
				break
			}
			ok1 = false
		}
	}
	var m metaPage
	switch {
	case ok0 && ok1:
		m = m0
		if m1.txid > m0.txid {
			m = m1
		}
	case ok0:
		m = m0
	case ok1:
		m = m1
	default:
		if size < pageHeaderSize+metaSize {
			return damaged(path, fmt.Errorf("%w: only %d bytes", ErrDamaged, size))
		}
		return damaged(path, fmt.Errorf("%w: not a vpay88-sandbox state file (no valid bbolt meta page)", ErrDamaged))
	}
	if need := int64(m.pgid) * int64(m.pageSize); size < need {
		return damaged(path, fmt.Errorf("%w: truncated: %d bytes where its data needs %d", ErrDamaged, size, need))
	}
	return nil
}

// Compact rewrites the state file at path to its live size (bbolt's compact): pages
// freed by retention or resets are given back. It works offline: a file in use by a
// running sandbox is refused. The copy is written beside the file, synced, and renamed
// over it, so a crash during Compact leaves the original whole.
func Compact(path string) (before, after int64, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	src, err := openDB(path, false)
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := safeCompact(dst, src); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, damaged(path, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	nst, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	return st.Size(), nst.Size(), nil
}

func safeCompact(dst, src *bolt.DB) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrDamaged, p)
		}
	}()
	return bolt.Compact(dst, src, 16<<20)
}
