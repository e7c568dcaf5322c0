package verify_test

import (
	"testing"

	"github.com/vpay88/vpay88-sandbox/internal/skipreport"
)

// TestMain says in one line which snippets skipped for want of their language (PHP,
// Node.js, Python), which a plain `go test ./...` would not show.
func TestMain(m *testing.M) { skipreport.Main(m) }
