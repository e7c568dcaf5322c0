package gateway_test

import (
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Amounts and durations in YAML are read from the scalar as written: exact where the
// float64 round trip of go-yaml's text path was not, the same elsewhere.
func TestYAMLScalarsAsWritten(t *testing.T) {
	money := []struct {
		doc  string
		want string // "" when an error is expected
	}{
		{"v: 100.50", "100.5000"},
		{"v: 1", "1.0000"},
		{`v: "49999.9999"`, "49999.9999"},
		{"v: '12.10'", "12.1000"},
		{"v: !!str 12.10", "12.1000"},
		{"v: 12345678901234.5678", "12345678901234.5678"}, // 18 digits: float64 kept 17
		{"v: 1_000", "1000.0000"},                         // integers in any YAML form, as before
		{"v: -5", "-5.0000"},
		{"v: |\n  7.25\n", ""}, // a block's newline is not part of an amount
		{"v: [1, 2]", ""},
		{"v: {a: 1}", ""},
		{"v: abc", ""},
	}
	for _, c := range money {
		var got struct{ V gateway.Money }
		err := yaml.Unmarshal([]byte(c.doc), &got)
		if c.want == "" {
			assert.Error(t, err, c.doc)
			continue
		}
		require.NoError(t, err, c.doc)
		assert.Equal(t, c.want, got.V.String(), c.doc)
	}

	durations := []struct {
		doc  string
		want time.Duration
		bad  bool
	}{
		{"v: 2s", 2 * time.Second, false},
		{"v: 30d", 30 * 24 * time.Hour, false},
		{`v: "500ms"`, 500 * time.Millisecond, false},
		{"v: 0", 0, false},
		{"v: 5", 0, true},
		{"v: -1s", 0, true},
	}
	for _, c := range durations {
		var got struct{ V gateway.Duration }
		err := yaml.Unmarshal([]byte(c.doc), &got)
		if c.bad {
			assert.Error(t, err, c.doc)
			continue
		}
		require.NoError(t, err, c.doc)
		assert.Equal(t, c.want, time.Duration(got.V), c.doc)
	}
}

// Anchors and aliases work for amounts, alone or in a mapping.
func TestYAMLAliases(t *testing.T) {
	var got struct {
		A struct{ Min, Max gateway.Money } `yaml:"a"`
		B struct{ Min, Max gateway.Money } `yaml:"b"`
		C gateway.Money                    `yaml:"c"`
		D gateway.Money                    `yaml:"d"`
	}
	require.NoError(t, yaml.Unmarshal([]byte("a: &lim {min: 1.5, max: 100}\nb: *lim\nc: &big 12345678901234.5678\nd: *big\n"), &got))
	assert.Equal(t, "100.0000", got.B.Max.String())
	assert.Equal(t, "12345678901234.5678", got.D.String())
}
