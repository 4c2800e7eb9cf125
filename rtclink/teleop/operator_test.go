package teleop

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnswerSync(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000)
	reply, ok := AnswerSync(syncMsg(9, 123.5), func() time.Time { at = at.Add(time.Millisecond); return at })
	require.True(t, ok)
	var r syncReply
	require.NoError(t, json.Unmarshal(reply, &r))
	assert.Equal(t, TypeSyncReply, r.Type)
	assert.Equal(t, uint64(9), r.ID)
	assert.Equal(t, 123.5, r.T0)
	assert.InDelta(t, 1_700_000_000_001, r.T1, 0.001, "t1: on receipt")
	assert.InDelta(t, 1_700_000_000_002, r.T2, 0.001, "t2: on sending")

	for _, other := range []string{`{"type":"echo","seq":1,"t":2}`, `not json`, `{"type":"clock","offset":1}`} {
		_, ok := AnswerSync([]byte(other), time.Now)
		assert.False(t, ok, other)
	}
	assert.Equal(t, 1_700_000_000_000.0, Millis(time.UnixMilli(1_700_000_000_000)))
}
