package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// docFiles are the documents a user reads on GitHub or in a checkout; their links must lead
// somewhere, since a table of contents whose anchors do not resolve is worse than none.
var docFiles = []string{
	"README.md",
	"bench/README.md",
	"docs/fidelity.md",
	"docs/ci/README.md",
	"npm/vpay88-sandbox/README.md",
}

var (
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeSpan   = regexp.MustCompile("`[^`]*`")
	mdHeading  = regexp.MustCompile(`^#{1,6} +(.*?)#*\s*$`)
	linkInText = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// githubAnchor is the id GitHub gives a heading: lower case, punctuation dropped (but '-' and
// '_'), spaces turned into '-', and "-1", "-2" … after a repeated one.
func githubAnchor(heading string, seen map[string]int) string {
	heading = linkInText.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	a := b.String()
	if n := seen[a]; n > 0 {
		seen[a] = n + 1
		return a + "-" + strconv.Itoa(n)
	}
	seen[a] = 1
	return a
}

// readDoc returns a Markdown file's heading anchors and its links (with their line numbers),
// outside fenced code blocks and code spans, where GitHub renders neither.
func readDoc(t *testing.T, path string) (anchors map[string]bool, links map[int][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	anchors, links = map[string]bool{}, map[int][]string{}
	seen := map[string]int{}
	fenced := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		if m := mdHeading.FindStringSubmatch(line); m != nil {
			anchors[githubAnchor(m[1], seen)] = true
		}
		for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			links[n] = append(links[n], m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return anchors, links
}

// TestDocLinks checks that every in-page link (#anchor) of the documents names a heading, and
// that every relative link names a file or directory of the repository (and, for a .md file
// with an anchor, a heading of it). A README line must not send a user to a file they do not
// have.
func TestDocLinks(t *testing.T) {
	anchorsOf := map[string]map[string]bool{}
	anchorsFor := func(path string) map[string]bool {
		if a, ok := anchorsOf[path]; ok {
			return a
		}
		a, _ := readDoc(t, path)
		anchorsOf[path] = a
		return a
	}
	for _, doc := range docFiles {
		_, links := readDoc(t, doc)
		for n, ls := range links {
			for _, l := range ls {
				if strings.Contains(l, "://") || strings.HasPrefix(l, "mailto:") {
					continue
				}
				target, frag, _ := strings.Cut(l, "#")
				path := doc
				if target != "" {
					path = filepath.Join(filepath.Dir(doc), filepath.FromSlash(target))
					if rel, err := filepath.Rel(".", path); err != nil || strings.HasPrefix(rel, "..") {
						t.Errorf("%s:%d: %s leaves the repository", doc, n, l)
						continue
					}
					if _, err := os.Stat(path); err != nil {
						t.Errorf("%s:%d: %s: no such file in the repository", doc, n, l)
						continue
					}
				}
				if frag != "" && strings.HasSuffix(path, ".md") && !anchorsFor(path)[frag] {
					t.Errorf("%s:%d: %s: no heading with anchor #%s in %s", doc, n, l, frag, path)
				}
			}
		}
	}
}

func TestGithubAnchor(t *testing.T) {
	seen := map[string]int{}
	for _, c := range []struct{ heading, want string }{
		{"QA cockpit: dashboard, admin API, metrics, logs", "qa-cockpit-dashboard-admin-api-metrics-logs"},
		{"Faults on the merchant's requests", "faults-on-the-merchants-requests"},
		{"Reliability suite: `bench/chaos.sh`", "reliability-suite-benchchaossh"},
		{"The sandbox's own decisions", "the-sandboxs-own-decisions"},
		{"Observed in live integrations (the `observed` profile)", "observed-in-live-integrations-the-observed-profile"},
		{"Callbacks", "callbacks"},
		{"Callbacks", "callbacks-1"},
	} {
		if got := githubAnchor(c.heading, seen); got != c.want {
			t.Errorf("githubAnchor(%q) = %q, want %q", c.heading, got, c.want)
		}
	}
}

// TestDocsCiteNoPrivateFile checks that the documents name no file a user of the repository
// does not have: the product spec and the vendor's document live outside it, and what the
// README cites of them is in docs/fidelity.md.
func TestDocsCiteNoPrivateFile(t *testing.T) {
	for _, doc := range docFiles {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			for _, bad := range []string{"../shared", "SPEC.md", "SPEC §", "(SPEC)", "| SPEC |"} {
				if strings.Contains(line, bad) {
					t.Errorf("%s:%d: cites %q, which users do not have (cite docs/fidelity.md)", doc, n+1, bad)
				}
			}
		}
	}
}
