package netlab

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDropped(t *testing.T) {
	out, in, err := parseDropped(`-N faults
-A faults -p udp -c 9 900 -j DROP
-A faults -i lan0 -m statistic --mode random --probability 0.04999999981 -c 31 40120 -j DROP
-A faults -i wan0 -m statistic --mode random --probability 0.04999999981 -c 7 560 -j DROP
`)
	require.NoError(t, err)
	assert.Equal(t, int64(31), out, "the block rule's drops are not loss")
	assert.Equal(t, int64(7), in)

	_, _, err = parseDropped("-A faults -i lan0 -m statistic --mode random --probability 0.05 -j DROP\n")
	assert.ErrorIs(t, err, ErrCommand, "no counters")
}
