package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// The address file tells other processes on the machine where a running sandbox
// really listens: `serve --addr 127.0.0.1:0` (the npm package's start(), parallel
// test runs) or `serve --addr 0.0.0.0:9000` in a container whose image says
// VPAY88_ADDR=0.0.0.0:8088 (issue 21, trap 5: the image's HEALTHCHECK probed 8088 and
// the container never became healthy). serve writes one line, the base URL a client
// on this machine dials (http://127.0.0.1:9000), once it listens, and removes it at a
// graceful stop; healthcheck reads it.

// addrFileSuffix names the default address file, beside the state file.
const addrFileSuffix = ".addr"

// addrFilePath is where serve writes its address and healthcheck reads it:
// --addr-file (VPAY88_ADDR_FILE), else beside the state file (vpay88-sandbox.db.addr),
// else nowhere under --ephemeral, whose state file is in a temporary directory no
// other process can guess.
func (m *Main) addrFilePath() string {
	switch {
	case m.AddrFile != "":
		return m.AddrFile
	case m.Ephemeral:
		return ""
	}
	return m.DataPath + addrFileSuffix
}

// dialURL is the base URL a client on this machine reaches the listener at. An
// unspecified address (0.0.0.0, ::, the ":8088" form) accepts loopback connections,
// so it is asked at 127.0.0.1 (Go's "::" listener is dual-stack); any other address
// is dialled as bound.
func dialURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// writeAddrFile puts url and a newline in path, through a temporary file renamed into
// place, so a reader never sees half a line.
func writeAddrFile(path, url string) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.WriteString(url + "\n")
	if err == nil {
		// Not a secret, and healthcheck may run as another user (docker exec).
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// removeAddrFile removes path if it still holds url: a sandbox started since on the
// same file has written its own, which stays.
func removeAddrFile(path, url string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil || !bytes.Equal(bytes.TrimSpace(b), []byte(url)) {
		return err
	}
	return os.Remove(path)
}

// readAddrFile returns the base URL an address file holds.
func readAddrFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("address file %s holds %q, not a sandbox's base URL", path, s)
	}
	return s, nil
}

// publishAddr writes the address file once the sandbox listens. A file asked for
// by --addr-file that cannot be written stops the start (a healthcheck or a test
// harness waits for it); the default one beside the state file only warns.
func (m *Main) publishAddr() error {
	path := m.addrFilePath()
	if path == "" {
		return nil
	}
	u := dialURL(m.ln.Addr())
	if err := writeAddrFile(path, u); err != nil {
		if m.AddrFile != "" {
			return fmt.Errorf("--addr-file: %w", err)
		}
		m.log.Warn("the address file beside the state file cannot be written; healthcheck falls back to --addr", "err", err)
		return nil
	}
	m.addrWritten = path
	return nil
}

// unpublishAddr removes the address file at a graceful stop.
func (m *Main) unpublishAddr() error {
	if m.addrWritten == "" {
		return nil
	}
	err := removeAddrFile(m.addrWritten, dialURL(m.ln.Addr()))
	m.addrWritten = ""
	return err
}

// healthTarget is the /healthz healthcheck asks when no --url is given: the address
// file's when --addr was not given on the command line and the file is there, else
// 127.0.0.1 at the port of --addr (or VPAY88_ADDR). It is looked up again at each
// attempt of --wait: the file appears once the sandbox listens.
func (m *Main) healthTarget() (string, error) {
	if !m.addrSet {
		if p := m.addrFilePath(); p != "" {
			if base, err := readAddrFile(p); err == nil {
				return base + "/healthz", nil
			}
		}
	}
	_, port, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return "", err
	}
	return "http://127.0.0.1:" + port + "/healthz", nil
}
