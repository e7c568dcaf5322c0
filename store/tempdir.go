package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// An ephemeral state file lives in a temporary directory its process removes on exit.
// A process killed with SIGKILL cannot: its directory stays behind (162 MB after five
// kills of a busy run, issue 18). So each directory is named by a prefix and holds a
// lock file its process locks for its whole life, and every start removes the
// directories of that prefix whose lock is free: the process that made them is gone,
// as the kernel releases a dead process's locks.

// tempLock is the lock file's name inside a temporary directory.
const tempLock = "lock"

// tempGrace is how old a directory without a lock file must be before a start removes
// it: a newer one may belong to a process between making it and locking (or to a run
// of a build before the lock file, which is then removed by a later start).
const tempGrace = time.Minute

// TempDir is a temporary directory for an ephemeral state file, locked by this process
// until Remove.
type TempDir struct {
	// Path is the directory.
	Path string
	lock *os.File
}

// MakeTempDir removes what killed processes left under os.TempDir() with this prefix,
// then makes a new directory there with that prefix, locked by this process. Removing
// the leftovers is best effort: one that cannot be removed is left for a later start.
func MakeTempDir(prefix string) (*TempDir, error) {
	sweepTempDirs(os.TempDir(), prefix)
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	lock, err := lockNew(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &TempDir{Path: dir, lock: lock}, nil
}

// lockNew makes the directory's lock file, locked. It is made under a name of its own
// and renamed into place once locked, so that no other start finds it unlocked. Windows
// cannot rename a file open without FILE_SHARE_DELETE: there it is made in place, and
// a start that comes in the microseconds before it is locked may take the directory
// for a dead one (its removal then fails on the state file the live process holds).
func lockNew(dir string) (*os.File, error) {
	var f *os.File
	var err error
	if runtime.GOOS == "windows" {
		f, err = os.OpenFile(filepath.Join(dir, tempLock), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	} else {
		f, err = os.CreateTemp(dir, tempLock+".*")
	}
	if err != nil {
		return nil, err
	}
	if _, err := tryLock(f); err != nil {
		f.Close()
		return nil, err
	}
	if runtime.GOOS != "windows" {
		// Should the rename fail, the lock is still held on the open file: a start
		// that finds no lock file leaves the directory alone for tempGrace.
		_ = os.Rename(f.Name(), filepath.Join(dir, tempLock))
	}
	return f, nil
}

// Remove releases the lock and removes the directory with everything in it.
func (d *TempDir) Remove() error {
	if d.lock != nil {
		d.lock.Close()
		d.lock = nil
	}
	return os.RemoveAll(d.Path)
}

// sweepTempDirs removes the directories under root named with prefix whose process is
// gone: the lock file is free, or there is none and the directory is older than
// tempGrace.
func sweepTempDirs(root, prefix string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if stale(dir) {
			os.RemoveAll(dir)
		}
	}
}

// stale reports whether the process that made dir is gone. The lock taken to find out
// need not be held while dir is removed: no process takes up a directory it did not
// make, and os.MkdirTemp never makes the same name twice while it exists.
func stale(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, tempLock), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		info, err := os.Stat(dir)
		return err == nil && time.Since(info.ModTime()) > tempGrace
	}
	if err != nil {
		return false
	}
	defer f.Close()
	ok, err := tryLock(f)
	return err == nil && ok
}
