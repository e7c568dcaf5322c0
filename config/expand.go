package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/vpay88/vpay88-sandbox/scenarios"
)

// Bounds of what YAML aliases may add to a document. goccy/go-yaml has no option to
// limit alias expansion, and it decodes an alias by decoding its anchor again: a
// 950 KB rule list repeating one rule 190,000 times by alias took 1.75 GB. A document
// is parsed first (no alias is expanded) and refused when its aliases, expanded,
// would add more than this; one without aliases is never refused by these bounds.
const (
	// MaxAliasNodes bounds the YAML nodes aliases may add.
	MaxAliasNodes = 10_000
	// MaxAliasBytes bounds the scalar bytes aliases may add.
	MaxAliasBytes = 1 << 20
)

// MaxAliases bounds the aliases (`*name`) a document may use, counted on its bytes
// before it is parsed: the parser holds a few hundred bytes for each (a 125 KB
// document of 25,000 aliases took 32 MB to parse and refuse).
const MaxAliases = 1000

// ErrTooManyAliases is a document using more than MaxAliases aliases.
var ErrTooManyAliases = fmt.Errorf("YAML aliases (*name) are used more than %d times", MaxAliases)

// checkAliasCount counts every `*` that starts a token (at the start of the document,
// or after a space, a tab, a line break, `[`, `{` or `,`), inside quotes too: a stray
// quote must not hide aliases from the count, and a document with a thousand such
// stars in its strings is as unlikely as it is harmless to refuse.
func checkAliasCount(b []byte) error {
	n := 0
	for i, ch := range b {
		if ch != '*' {
			continue
		}
		if i == 0 || strings.IndexByte(" \t\n\r[{,", b[i-1]) >= 0 {
			if n++; n > MaxAliases {
				return ErrTooManyAliases
			}
		}
	}
	return nil
}

// ErrAliasExpansion is a document whose aliases expand past MaxAliasNodes or
// MaxAliasBytes.
var ErrAliasExpansion = errors.New("YAML aliases expand past their limit")

// ErrTooManyRules is a rule list longer than scenarios.MaxRules, found before the
// rules are decoded.
var ErrTooManyRules = fmt.Errorf("more than %d scenario rules", scenarios.MaxRules)

// expansion is what a node is once its aliases are expanded.
type expansion struct{ nodes, bytes int64 }

func (e expansion) plus(o expansion) expansion {
	// Saturating: a nested alias bomb's true size overflows int64.
	const ceiling = 1 << 60
	return expansion{min(e.nodes+o.nodes, ceiling), min(e.bytes+o.bytes, ceiling)}
}

// aliasWalk measures a parsed document: anchors in document order (as the decoder
// resolves them), and what the aliases add. Each anchor is measured once, so a
// nested bomb costs one pass over its text.
type aliasWalk struct {
	anchors map[string]expansion
	nodes   map[string]ast.Node
	added   expansion
}

func (w *aliasWalk) walk(n ast.Node) expansion {
	if n == nil {
		return expansion{}
	}
	switch n := n.(type) {
	case *ast.DocumentNode:
		return w.walk(n.Body)
	case *ast.MappingNode:
		e := expansion{nodes: 1}
		for _, v := range n.Values {
			e = e.plus(w.walk(v))
		}
		return e
	case *ast.MappingValueNode:
		return w.walk(n.Key).plus(w.walk(n.Value))
	case *ast.MappingKeyNode:
		return w.walk(n.Value)
	case *ast.SequenceNode:
		e := expansion{nodes: 1}
		for _, v := range n.Values {
			e = e.plus(w.walk(v))
		}
		return e
	case *ast.SequenceEntryNode:
		return w.walk(n.Value)
	case *ast.TagNode:
		return w.walk(n.Value)
	case *ast.AnchorNode:
		e := w.walk(n.Value)
		if n.Name != nil {
			name := n.Name.GetToken().Value
			w.anchors[name], w.nodes[name] = e, n.Value
		}
		return e
	case *ast.AliasNode:
		if n.Value == nil {
			return expansion{}
		}
		e := w.anchors[n.Value.GetToken().Value]
		w.added = w.added.plus(e)
		return e
	case *ast.CommentGroupNode, *ast.CommentNode:
		return expansion{}
	case *ast.LiteralNode:
		if n.Value != nil {
			return expansion{nodes: 1, bytes: int64(len(n.Value.Value))}
		}
		return expansion{nodes: 1}
	}
	if t := n.GetToken(); t != nil {
		return expansion{nodes: 1, bytes: int64(len(t.Value))}
	}
	return expansion{nodes: 1}
}

// preflight parses b and refuses it when its aliases expand past their bounds. It
// returns the parsed documents and their anchors for the rule count, or nil when b does
// not parse: the decoder then reports the error in its own words.
func preflight(b []byte) (w *aliasWalk, f *ast.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			w, f, err = nil, nil, nil // the decoder's own recover words it
		}
	}()
	f, perr := parser.ParseBytes(b, 0)
	if perr != nil {
		return nil, nil, nil
	}
	w = &aliasWalk{anchors: map[string]expansion{}, nodes: map[string]ast.Node{}}
	for _, d := range f.Docs {
		w.walk(d)
	}
	if w.added.nodes > MaxAliasNodes || w.added.bytes > MaxAliasBytes {
		return nil, nil, fmt.Errorf("%w: expanded, they would add %s nodes and %s bytes; at most %d nodes and %d bytes (1 MiB) are allowed",
			ErrAliasExpansion, countText(w.added.nodes), countText(w.added.bytes), MaxAliasNodes, MaxAliasBytes)
	}
	return w, f, nil
}

// countText writes a saturated count as "more than 2^60".
func countText(n int64) string {
	if n >= 1<<60 {
		return "more than 2^60"
	}
	return fmt.Sprint(n)
}

// ruleCount is how many items the document's rule list holds: the document itself
// when it is a list, else its value at one of keys; -1 when it has none.
func (w *aliasWalk) ruleCount(f *ast.File, keys ...string) int {
	if f == nil || len(f.Docs) == 0 {
		return -1
	}
	n := w.resolve(f.Docs[0].Body)
	if m, ok := n.(*ast.MappingNode); ok {
		n = nil
		for _, v := range m.Values {
			if v.Key != nil && v.Key.GetToken() != nil && slices.Contains(keys, v.Key.GetToken().Value) {
				n = w.resolve(v.Value)
			}
		}
	}
	if s, ok := n.(*ast.SequenceNode); ok {
		return len(s.Values)
	}
	return -1
}

// resolve looks through anchors, tags and aliases to the node they stand for.
func (w *aliasWalk) resolve(n ast.Node) ast.Node {
	for i := 0; i < 8 && n != nil; i++ {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			if v.Value == nil {
				return nil
			}
			n = w.nodes[v.Value.GetToken().Value]
		default:
			return n
		}
	}
	return n
}

// checkRuleCount refuses a document whose rule list (at one of keys, or the document
// itself) holds more than scenarios.MaxRules items, before they are decoded.
func checkRuleCount(w *aliasWalk, f *ast.File, keys ...string) error {
	if w == nil {
		return nil
	}
	if n := w.ruleCount(f, keys...); n > scenarios.MaxRules {
		return fmt.Errorf("%w: the list holds %d; at most %d are allowed", ErrTooManyRules, n, scenarios.MaxRules)
	}
	return nil
}

// checkDocument refuses, before it is decoded, a document that nests too deep, uses
// too many aliases or whose aliases expand past their bounds, or whose rule list (the document itself, or its
// value at one of ruleKeys) is longer than scenarios.MaxRules.
// It returns the parsed document, nil when it does not parse (the decoder then says
// why, in its own words).
func checkDocument(b []byte, ruleKeys ...string) (*ast.File, error) {
	if err := checkNesting(b); err != nil {
		return nil, err
	}
	if err := checkAliasCount(b); err != nil {
		return nil, err
	}
	w, f, err := preflight(b)
	if err != nil {
		return nil, err
	}
	return f, checkRuleCount(w, f, ruleKeys...)
}

// decodeParsed decodes the first document of f, parsed by checkDocument, strictly as
// unmarshal does, so that a document is parsed once: the parser holds 150 bytes for
// each byte of its input. With no parsed document it decodes b.
func decodeParsed(f *ast.File, b []byte, v any) (err error) {
	if f == nil {
		return unmarshal(b, v)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("not a YAML document this sandbox can read (%v)", p)
		}
	}()
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil // an empty document: v stays as it is
	}
	return yaml.NodeToValue(f.Docs[0].Body, v, yaml.Strict())
}
