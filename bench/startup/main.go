// Command startup measures how long the sandbox takes from process start to its first
// 200 answer on /healthz, the time a CI job waits before its first test can run. It
// starts the built binary -runs times on a fresh data file each time, then -runs times
// on one existing file, polls /healthz on 127.0.0.1 as fast as it can, stops the
// process, and prints the median (and min, p90) of each series in milliseconds.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bench/out/vpay88-sandbox", "sandbox binary")
	dir := flag.String("dir", "bench/out/startup", "folder for the data files")
	runs := flag.Int("runs", 20, "starts per series")
	poll := flag.Duration("poll", 50*time.Microsecond, "pause between connection attempts")
	limit := flag.Duration("timeout", 5*time.Second, "give up on one start after this long")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fail(err)
	}
	fresh := make([]time.Duration, 0, *runs)
	for i := range *runs {
		path := filepath.Join(*dir, fmt.Sprintf("fresh-%d.db", i))
		_ = os.Remove(path)
		d, err := once(*bin, path, *poll, *limit)
		if err != nil {
			fail(err)
		}
		_ = os.Remove(path)
		fresh = append(fresh, d)
	}
	// The existing file is made by one untimed start, then reused by every timed one.
	existing := filepath.Join(*dir, "existing.db")
	_ = os.Remove(existing)
	if _, err := once(*bin, existing, *poll, *limit); err != nil {
		fail(err)
	}
	reused := make([]time.Duration, 0, *runs)
	for range *runs {
		d, err := once(*bin, existing, *poll, *limit)
		if err != nil {
			fail(err)
		}
		reused = append(reused, d)
	}
	_ = os.Remove(existing)
	report("fresh", fresh)
	report("existing", reused)
}

// report prints one line run.sh parses.
func report(name string, ds []time.Duration) {
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("STARTUP series=%s runs=%d median_ms=%.2f min_ms=%.2f p90_ms=%.2f max_ms=%.2f\n", name, len(ds),
		ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)*9/10]), ms(ds[len(ds)-1]))
}

// once starts the sandbox on a free port and returns the time to the first /healthz 200.
func once(bin, data string, poll, limit time.Duration) (time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--addr", addr, "--data", data, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = nil, nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	for time.Since(start) < limit {
		if healthy(addr) {
			return time.Since(start), nil
		}
		if poll > 0 {
			time.Sleep(poll)
		}
	}
	return 0, fmt.Errorf("%s: no /healthz 200 within %s", bin, limit)
}

// healthy sends one raw HTTP/1.1 request, the cheapest probe there is: a refused
// connection fails at once, so the loop sees the listener the moment it opens.
func healthy(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "HTTP/1.1 200")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "startup:", err)
	os.Exit(1)
}
