package store

import (
	"os"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// A durable store writes zeros ahead of the pages bbolt will allocate next, so that
// those pages are overwritten, not allocated, when a commit writes them. On ext4 the
// first write into a hole (bbolt grows its file with a sparse truncate) allocates
// blocks, and the commit's fdatasync then waits for a journal commit as well as for
// the data; an overwrite needs no journal. Measured alone (12 pages, fdatasync, meta
// page, fdatasync, 2000 times): 225-245 us for the first fdatasync into holes, 157-169
// us into written zeros. Zeroing costs a megabyte written and synced once per megabyte
// of new pages, between commits: the leader does it after answering its batch, and the
// next batch waits for it (about a millisecond). Linux only (ahead_linux.go).

const (
	// zeroChunk is how much is zeroed at a time.
	zeroChunk = 1 << 20
	// zeroLow: zero more when less than this is left ahead of the high-water mark.
	zeroLow = 256 << 10
	// zeroFrom: a file smaller than this is not zeroed ahead. A new file's first commit
	// (the opening balances, at start-up) must not wait for a megabyte written and
	// synced: start to first answer is one of the goals (bench/startup).
	zeroFrom = 1 << 20
)

// zeros is made at the first use: a megabyte allocated at package start-up costs
// every process 1-2 ms before main (bench/startup), durable or not.
var zeros = sync.OnceValue(func() []byte { return make([]byte, zeroChunk) })

// zeroAhead keeps zeroLow to zeroLow+zeroChunk of written zeros beyond bbolt's high
// water mark. The caller holds wmu, so no commit allocates meanwhile; pages beyond
// the high-water mark are not in any transaction's view. A failure only stops it: the
// file stays as bbolt made it.
func (s *Store) zeroAhead() {
	if !zeroAheadSupported || s.db.NoSync || s.hot != nil || s.zeroFailed {
		return
	}
	var hw int64
	if err := s.db.View(func(tx *bolt.Tx) error { hw = tx.Size(); return nil }); err != nil {
		return
	}
	if hw < zeroFrom || s.zeroedTo-hw >= zeroLow {
		return
	}
	if s.aheadFile == nil {
		f, err := os.OpenFile(s.db.Path(), os.O_WRONLY, 0)
		if err != nil {
			s.zeroFailed = true
			return
		}
		s.aheadFile = f
	}
	f := s.aheadFile
	if s.zeroedTo < hw {
		// The first time (after a restart too): what an earlier run zeroed ahead is
		// data to the file system, not a hole, so it is not written again.
		s.zeroedTo = hw
		if next, err := nextHole(f, hw); err == nil && next > hw {
			s.zeroedTo = next
		}
		if s.zeroedTo-hw >= zeroLow {
			return
		}
	}
	if _, err := f.WriteAt(zeros(), s.zeroedTo); err != nil {
		s.zeroFailed = true
		return
	}
	if err := datasync(f); err != nil {
		s.zeroFailed = true
		return
	}
	s.zeroedTo += zeroChunk
}
