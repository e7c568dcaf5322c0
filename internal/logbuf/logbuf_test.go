package logbuf

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is an io.Writer the test reads while the writer goroutine writes.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Every line written by many goroutines arrives whole, once, and in each goroutine's
// order; Close leaves nothing behind.
func TestEveryLineArrivesWholeAndInOrder(t *testing.T) {
	var out lockedBuffer
	w := New(&out)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(w, "g=%d i=%d p%s\n", g, i, strings.Repeat("x", i%50))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, w.Close())

	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, got, writers*lines)
	for _, l := range got {
		var g, i int
		var pad string
		_, err := fmt.Sscanf(l, "g=%d i=%d %s", &g, &i, &pad)
		require.NoError(t, err, "line %q", l)
		require.Equal(t, next[g], i, "goroutine %d's lines out of order at %q", g, l)
		require.Equal(t, "p"+strings.Repeat("x", i%50), pad, "line %q", l)
		next[g]++
	}
	assert.Less(t, out.writes, writers*lines, "lines are gathered into fewer writes")
}

// After Close, writes go straight through, behind everything written before.
func TestWritesAfterCloseAreDirect(t *testing.T) {
	var out lockedBuffer
	w := New(&out)
	io.WriteString(w, "before\n")
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "a second Close is harmless")
	n, err := io.WriteString(w, "after\n")
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	assert.Equal(t, "before\nafter\n", out.String())
}

// blockingWriter holds every write until released, as a full pipe does.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	out     lockedBuffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	return b.out.Write(p)
}

// A reader that stops reading blocks the loggers once maxBuffered has gathered, rather
// than the buffer growing without end; once it reads again, nothing is lost.
func TestAFullBufferBlocksWriters(t *testing.T) {
	out := &blockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	w := New(out)
	line := []byte(strings.Repeat("y", 1023) + "\n")
	io.WriteString(w, "first\n")
	<-out.entered // the goroutine is stuck writing "first"

	const total = 3 * maxBuffered / 1024
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range total {
			w.Write(line)
		}
	}()
	// The filler blocks with at most maxBuffered (plus one line) gathered.
	for {
		w.mu.Lock()
		waiting, buffered := w.waiting, len(w.buf)
		w.mu.Unlock()
		require.LessOrEqual(t, buffered, maxBuffered+len(line))
		if waiting == 1 {
			break
		}
		runtime.Gosched()
	}
	close(out.release)
	<-done
	require.NoError(t, w.Close())
	assert.Equal(t, len("first\n")+total*len(line), len(out.out.String()))
}

// BenchmarkLogLine is one request's log line through slog's text handler to a file,
// written directly and through a Writer, from parallel goroutines as requests are.
func BenchmarkLogLine(b *testing.B) {
	for _, gathered := range []bool{false, true} {
		name := map[bool]string{false: "direct", true: "gathered"}[gathered]
		b.Run(name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			require.NoError(b, err)
			defer f.Close()
			var out io.Writer = f
			if gathered {
				w := New(f)
				defer w.Close()
				out = w
			}
			log := slog.New(slog.NewTextHandler(out, nil))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					log.Info("api request", "request_id", "6391598256b3f335", "endpoint", "/merchant/generate_orders", "message", "OK", "latency_ms", 0.111)
				}
			})
		})
	}
}
