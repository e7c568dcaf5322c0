package ci_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pinnedVersion is the release install.sh installs by default: every recipe here
// names the same one, so a release bumps them together (issue 21: each recipe pinned
// to a version, none on a path no one can fetch).
func pinnedVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "install.sh"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^default_version="(v\d+\.\d+\.\d+)"$`).FindSubmatch(b)
	require.NotNil(t, m, "install.sh has no default_version")
	return string(m[1])
}

// TestRecipesPinned: the CI recipes parse as YAML, pin the release install.sh pins
// (v0.1.0 for install.sh and go install, 0.1.0 for image tags and npm), and name no
// moving or placeholder source.
func TestRecipesPinned(t *testing.T) {
	v := pinnedVersion(t)
	bare := strings.TrimPrefix(v, "v")
	for _, name := range []string{"github-actions.yml", "gitlab-ci.yml", "docker-compose.yml"} {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal(b, &doc), name)
		s := string(b)
		for _, bad := range []string{"@latest", "your-org", "your-group", ":latest"} {
			assert.False(t, strings.Contains(s, bad), "%s names %s", name, bad)
		}
		// Every version named is the pinned one.
		named := regexp.MustCompile(`vpay88-sandbox(?:@|:|/releases/download/)(v?[\w.$-]+)`).FindAllStringSubmatch(s, -1)
		assert.NotEmpty(t, named, "%s names no version of the sandbox", name)
		for _, m := range named {
			if strings.HasPrefix(m[1], "$") {
				continue // $VPAY88_SANDBOX_VERSION, checked below
			}
			assert.Contains(t, []string{v, bare}, m[1], "%s: %s", name, m[0])
		}
		assert.True(t, strings.Contains(s, bare), "%s does not name %s", name, bare)
	}
	gl, err := os.ReadFile("gitlab-ci.yml")
	require.NoError(t, err)
	assert.Contains(t, string(gl), "VPAY88_SANDBOX_VERSION: "+v)

	// The Playwright recipe pins exact versions of both packages.
	b, err := os.ReadFile(filepath.Join("playwright", "package.json"))
	require.NoError(t, err)
	var pkg struct{ DevDependencies map[string]string }
	require.NoError(t, json.Unmarshal(b, &pkg))
	assert.Equal(t, bare, pkg.DevDependencies["vpay88-sandbox"])
	assert.Regexp(t, `^\d+\.\d+\.\d+$`, pkg.DevDependencies["playwright-core"])
}

// TestComposeHealthcheck: the Compose recipe's health check is the exec form (the
// distroless image has no shell) and the app waits for it.
func TestComposeHealthcheck(t *testing.T) {
	b, err := os.ReadFile("docker-compose.yml")
	require.NoError(t, err)
	var doc struct {
		Services map[string]struct {
			Healthcheck struct{ Test []string }
			DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
		}
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	assert.Equal(t, []string{"CMD", "/vpay88-sandbox", "healthcheck"}, doc.Services["vpay88"].Healthcheck.Test)
	assert.Equal(t, "service_healthy", doc.Services["app"].DependsOn["vpay88"].Condition)
}
