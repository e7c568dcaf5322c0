package store

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMakeTempDirRemovesWhatDeadProcessesLeft: a start removes the directories of its
// prefix whose lock is free (their process was killed) and old ones without a lock,
// and leaves a live process's, a new one without a lock yet, and other names alone.
func TestMakeTempDirRemovesWhatDeadProcessesLeft(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("os.TempDir reads TMP there")
	}
	root := t.TempDir()
	t.Setenv("TMPDIR", root)
	const prefix = "vpay88-test-ephemeral-"
	live, err := MakeTempDir(prefix)
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(live.Path, tempLock))

	mk := func(name string) string {
		dir := filepath.Join(root, name)
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "sandbox.db"), []byte("state"), 0o600))
		return dir
	}
	dead := mk(prefix + "killed")
	require.NoError(t, os.WriteFile(filepath.Join(dead, tempLock), nil, 0o600)) // its process is gone: no lock held
	old := mk(prefix + "older-build")
	require.NoError(t, os.Chtimes(old, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)))
	young := mk(prefix + "starting")
	other := mk("someone-else-ephemeral-x")

	next, err := MakeTempDir(prefix)
	require.NoError(t, err)
	assert.NoDirExists(t, dead)
	assert.NoDirExists(t, old)
	assert.DirExists(t, live.Path, "its process still holds the lock")
	assert.DirExists(t, young, "may be a process between making it and locking it")
	assert.DirExists(t, other)

	require.NoError(t, live.Remove())
	assert.NoDirExists(t, live.Path)
	require.NoError(t, next.Remove())
}
