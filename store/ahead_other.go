//go:build !linux

package store

import (
	"errors"
	"os"
)

// zeroAheadSupported: writing zeros ahead is measured, and kept, on Linux only
// (ahead_linux.go); elsewhere the store leaves the file as bbolt makes it.
const zeroAheadSupported = false

func datasync(f *os.File) error { return f.Sync() }

func nextHole(f *os.File, off int64) (int64, error) { return off, errors.ErrUnsupported }
