package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAddr returns the address file's content, trimmed.
func readAddr(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// TestAddrFileBesideStateFile: a durable sandbox writes the URL it really listens at
// beside its state file; healthcheck given the same --data finds it without --addr,
// even when VPAY88_ADDR names another port; a graceful stop removes the file.
func TestAddrFileBesideStateFile(t *testing.T) {
	data := filepath.Join(t.TempDir(), "s.db")
	p := startSandbox(t, data) // --addr 127.0.0.1:0
	assert.Equal(t, p.URL, readAddr(t, data+".addr"))
	if fi, err := os.Stat(data + ".addr"); assert.NoError(t, err) && runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "readable by a healthcheck run as another user")
	}

	t.Setenv("VPAY88_ADDR", "127.0.0.1:"+freePort(t)) // what the environment says, not what serve bound
	code, msg := healthcheck("--data", data)
	assert.Equal(t, 0, code, msg)
	code, msg = healthcheck("--data", data, "--wait", "5s")
	assert.Equal(t, 0, code, msg)
	// --addr on healthcheck's command line is asked as given, file or not.
	code, _ = healthcheck("--data", data, "--addr", "127.0.0.1:"+freePort(t))
	assert.Equal(t, 1, code)

	require.Equal(t, 0, p.Terminate(t), p.Log())
	assert.NoFileExists(t, data+".addr")
}

// TestAddrFileTrap5 is issue 21's trap 5 in the image's environment (the Dockerfile's
// ENV: VPAY88_ADDR=0.0.0.0:8088, VPAY88_DATA, VPAY88_ADDR_FILE), serve started with
// --addr on another port and --ephemeral, as the CI recipes run it. healthcheck with
// no flags, as the image's HEALTHCHECK runs it, asks the port serve bound.
// (127.0.0.1 and a temporary directory here: tests stay on loopback, and /tmp may be
// another sandbox's; dialURL's test covers 0.0.0.0.)
func TestAddrFileTrap5(t *testing.T) {
	image := dockerfileEnv(t)
	dir := t.TempDir()
	file := filepath.Join(dir, filepath.Base(image["VPAY88_ADDR_FILE"]))
	p := startSandbox(t, filepath.Join(dir, "ignored.db"), "--ephemeral", "--addr-file", file)
	assert.Equal(t, p.URL, readAddr(t, file))
	assert.NoFileExists(t, filepath.Join(dir, "ignored.db.addr"))

	// The image's 8088 is taken as a free port of loopback, where nothing listens.
	_, port, err := net.SplitHostPort(image["VPAY88_ADDR"])
	require.NoError(t, err)
	require.Equal(t, "8088", port)
	t.Setenv("VPAY88_ADDR", "127.0.0.1:"+freePort(t))
	t.Setenv("VPAY88_DATA", image["VPAY88_DATA"])
	t.Setenv("VPAY88_ADDR_FILE", file)
	code, msg := healthcheck()
	assert.Equal(t, 0, code, msg)

	// Without the file (the image before this change) the same healthcheck fails.
	require.Equal(t, 0, p.Terminate(t), p.Log())
	assert.NoFileExists(t, file)
	code, msg = healthcheck()
	assert.Equal(t, 1, code, msg)
	assert.Contains(t, msg, os.Getenv("VPAY88_ADDR"))
}

// TestAddrFileWaitFindsLateFile: healthcheck --wait looks for the file again at each
// attempt, so a CI script can start the sandbox on a free port and wait at once.
func TestAddrFileWaitFindsLateFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "addr")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := healthzServer(t, 200)
	go func() { _ = srv.Serve(l) }()
	t.Setenv("VPAY88_ADDR", "127.0.0.1:"+freePort(t))
	t.Setenv("VPAY88_ADDR_FILE", file)
	// The file appears after the first attempts have failed on VPAY88_ADDR's port,
	// as it does when the sandbox is still opening its state file.
	late := time.AfterFunc(3*healthcheckInterval, func() { _ = writeAddrFile(file, dialURL(l.Addr())) })
	t.Cleanup(func() { late.Stop() })
	start := time.Now()
	code, msg := healthcheck("--wait", "10s")
	assert.Equal(t, 0, code, msg)
	assert.GreaterOrEqual(t, time.Since(start), 3*healthcheckInterval, "answered before the file was there")
}

// runBinary runs the sandbox binary with args and a clean environment to its end.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sandboxBinary(t), args...)
	cmd.Env = cleanEnv()
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		require.NoError(t, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestAddrFileExplicitUnwritable: an --addr-file that cannot be written stops the
// start with one line naming the flag; the default file beside the state file would
// only warn.
func TestAddrFileExplicitUnwritable(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runBinary(t, "--addr", "127.0.0.1:0", "--ephemeral", "--addr-file", filepath.Join(dir, "no", "such", "dir", "addr"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "vpay88-sandbox: --addr-file: ")
	assert.Equal(t, 1, strings.Count(stderr, "vpay88-sandbox: "), stderr)
}

func TestDialURL(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9000}, "http://127.0.0.1:9000"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, "http://127.0.0.1:9000"},
		{&net.TCPAddr{Port: 9000}, "http://127.0.0.1:9000"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}, "http://127.0.0.1:41234"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8088}, "http://[::1]:8088"},
		{&net.TCPAddr{IP: net.IPv4(172, 17, 0, 2), Port: 8088}, "http://172.17.0.2:8088"},
	} {
		assert.Equal(t, tc.want, dialURL(tc.addr), "%v", tc.addr)
	}
}

// TestAddrFileRemoval: a graceful stop removes only its own line; a file another
// sandbox wrote since stays.
func TestAddrFileRemoval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "addr")
	require.NoError(t, writeAddrFile(path, "http://127.0.0.1:1"))
	require.NoError(t, removeAddrFile(path, "http://127.0.0.1:2"))
	assert.Equal(t, "http://127.0.0.1:1", readAddr(t, path))
	require.NoError(t, removeAddrFile(path, "http://127.0.0.1:1"))
	assert.NoFileExists(t, path)
	require.NoError(t, removeAddrFile(path, "http://127.0.0.1:1"), "already gone")

	require.NoError(t, os.WriteFile(path, []byte("garbage\n"), 0o600))
	_, err := readAddrFile(path)
	assert.ErrorContains(t, err, "not a sandbox's base URL")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

// TestVersionFallback: the stamped version wins; without one, the module version the
// go command recorded (`go install …@v1.2.3`); without that, dev.
func TestVersionFallback(t *testing.T) {
	info := func(v string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/vpay88/vpay88-sandbox", Version: v}}
	}
	for _, tc := range []struct {
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"v1.4.0", info("v1.2.3"), "v1.4.0"},
		{"dev", info("v1.2.3"), "v1.2.3"},
		{"", info("v1.2.3"), "v1.2.3"},
		{"dev", info("v0.0.0-20261206215301-1e0f546e1c2a+dirty"), "v0.0.0-20261206215301-1e0f546e1c2a+dirty"},
		{"dev", info("(devel)"), "dev"},
		{"dev", info(""), "dev"},
		{"dev", nil, "dev"},
	} {
		assert.Equal(t, tc.want, versionOf(tc.stamped, tc.info), "%q %v", tc.stamped, tc.info)
	}
}
