package cut

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTo(t *testing.T) {
	assert.Equal(t, "abc", To("abc", 3))
	assert.Equal(t, "ab…[cut 2 bytes]", To("abcd", 2))
	// Never inside a rune: 订 is three bytes.
	assert.Equal(t, "a…[cut 6 bytes]", To("a订单", 3))
	assert.Equal(t, "a订…[cut 3 bytes]", To("a订单", 4))
	assert.Equal(t, "ab…[cut 8 bytes]", Kept("abc", 10, 2), "the count is of the whole value, not the part kept")
}
