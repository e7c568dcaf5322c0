// Command profile runs the sandbox in-process, as main.go does, with Go's profilers
// on: the sandbox has no pprof endpoint (it serves merchants' CI, not operators), so a
// slow path is investigated here instead. Point wrk at it (bench/run.sh prints the
// commands), stop it with Ctrl-C or SIGTERM, and it writes the profiles and prints
// bbolt's commit statistics: commits, writes per commit, time in spill and in
// write+fdatasync.
//
//	go run ./bench/profile -addr 127.0.0.1:18090 -data bench/out/profile.db -cpuprofile bench/out/cpu.pprof
//	go tool pprof -top bench/out/cpu.pprof
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/config"
	"github.com/vpay88/vpay88-sandbox/server"
	"github.com/vpay88/vpay88-sandbox/store"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address (127.0.0.1 only)")
	data := flag.String("data", "bench/out/profile.db", "bbolt file; removed first unless -keep")
	keep := flag.Bool("keep", false, "keep an existing data file")
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	mutex := flag.String("mutexprofile", "", "write a mutex contention profile here")
	block := flag.String("blockprofile", "", "write a blocking profile here")
	heap := flag.String("memprofile", "", "write a heap profile here at exit")
	noSync := flag.Bool("nosync", false, "commit without fsync, as --durability process does")
	ephemeral := flag.Bool("ephemeral", false, "the store --ephemeral uses: the same group commit, no fsync")
	logInfo := flag.Bool("log", false, "log at info to stderr, as the binary's default --log-level does (its cost is part of a request's)")
	flag.Parse()
	logger := slog.New(slog.DiscardHandler)
	if *logInfo {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	var opts []store.Option
	switch {
	case *ephemeral:
		opts = append(opts, store.Ephemeral())
	case *noSync:
		opts = append(opts, store.WithoutSync())
	}
	if err := run(*addr, *data, *keep, opts, *cpu, *mutex, *block, *heap, logger); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}

func run(addr, data string, keep bool, opts []store.Option, cpu, mutex, block, heap string, logger *slog.Logger) error {
	if !keep {
		_ = os.Remove(data)
	}
	if mutex != "" {
		runtime.SetMutexProfileFraction(5)
	}
	if block != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	}
	st, err := store.Open(data, opts...)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(server.Options{Config: config.Default(), Store: st, Logger: logger})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Printf("profile: sandbox on http://%s (Ctrl-C to stop)\n", ln.Addr())

	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	before := stats(st.DB())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if cpu != "" {
		pprof.StopCPUProfile()
	}
	after := stats(st.DB())
	sc, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sc)

	printCommits(before, after)
	return writeProfiles(mutex, block, heap)
}

// printCommits prints bbolt's commit statistics between two snapshots.
func printCommits(before, after snapshot) {
	commits := after.txid - before.txid
	if commits > 0 {
		d := after.tx.Sub(&before.tx)
		fmt.Printf("profile: %d commits; per commit: %.1f page writes, spill %s, write+fdatasync %s\n", commits,
			float64(d.GetWrite())/float64(commits), d.GetSpillTime()/time.Duration(commits), d.GetWriteTime()/time.Duration(commits))
	}
}

// writeProfiles writes the mutex, block and heap profiles asked for.
func writeProfiles(mutex, block, heap string) error {
	for _, p := range []struct{ name, path string }{{"mutex", mutex}, {"block", block}, {"heap", heap}} {
		if p.path == "" {
			continue
		}
		if p.name == "heap" {
			runtime.GC()
		}
		f, err := os.Create(p.path)
		if err != nil {
			return err
		}
		if err := pprof.Lookup(p.name).WriteTo(f, 0); err != nil {
			return errors.Join(err, f.Close())
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

type snapshot struct {
	txid int
	tx   bolt.TxStats
}

func stats(db *bolt.DB) snapshot {
	var s snapshot
	_ = db.View(func(tx *bolt.Tx) error { s.txid = tx.ID(); return nil })
	s.tx = db.Stats().TxStats
	return s
}
