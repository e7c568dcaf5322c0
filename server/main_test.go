package server_test

import (
	"testing"

	"github.com/vpay88/vpay88-sandbox/internal/skipreport"
)

// TestMain says in one line which tests skipped for want of Chromium or the vendor
// document, which a plain `go test ./...` would not show.
func TestMain(m *testing.M) { skipreport.Main(m) }
