package gateway

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

// go-yaml hands a TextUnmarshaler the node formatted back into YAML and decoded again
// into a string. That costs, and it loses money. The formatter walks the document's
// tokens anew for every value: half of a config's parse (1.3 of 2.6 ms for the embedded
// default, which start-up waits for). And the string decoding goes through float64:
// `start_balance: 0.1234567890123456789` reached UnmarshalText as "0.12345678901234568",
// `!!str 12.10` as "12.1". Money and Duration read the scalar's own text instead.

// UnmarshalYAML reads an amount as written in the YAML document.
func (m *Money) UnmarshalYAML(node ast.Node) error {
	s, err := yamlScalar(node)
	if err != nil {
		return err
	}
	return m.UnmarshalText([]byte(s))
}

// UnmarshalYAML reads a duration as written in the YAML document.
func (d *Duration) UnmarshalYAML(node ast.Node) error {
	s, err := yamlScalar(node)
	if err != nil {
		return err
	}
	return d.UnmarshalText([]byte(s))
}

// yamlScalar is the text of a scalar: a string's value, a number's literal (an integer
// in any YAML form as its decimal value, as before), "" for null. Aliases arrive
// resolved (TestYAMLAliases).
func yamlScalar(node ast.Node) (string, error) {
	for {
		t, ok := node.(*ast.TagNode)
		if !ok {
			break
		}
		node = t.Value
	}
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value, nil
	case *ast.LiteralNode:
		return n.Value.Value, nil
	case *ast.NullNode:
		return "", nil
	case *ast.IntegerNode:
		return fmt.Sprint(n.Value), nil
	case ast.ScalarNode:
		return n.GetToken().Value, nil
	}
	return "", fmt.Errorf("expected one value, not a %s", node.Type())
}
