package browserbench

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A few freezes, as the command makes them: each gives a figure, and the
// figures are printed. Its size is the benchmark's to report, not a test's.
func TestFreezeToLockout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and the example programs: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &syncbuf.Buffer{}
	cfg := Config{Repo: "../..", Timeout: 30 * time.Second, LogTo: logs}
	if err := Check(ctx, cfg, RobotToPage); err != nil {
		require.ErrorIs(t, err, ErrMissing)
		t.Skip(err)
	}
	b, err := Start(ctx, cfg)
	require.NoError(t, err)
	defer b.Close()
	l, err := b.Lockout(ctx, 3)
	if err != nil {
		t.Logf("programs and browsers:\n%s", tail(logs.String(), 8000))
	}
	require.NoError(t, err)
	require.Len(t, l.Ms, 3)
	for _, v := range l.Ms {
		assert.Positive(t, v)
	}
	var out bytes.Buffer
	WriteLockout(&out, l)
	t.Log(out.String())
	assert.Regexp(t, `^Freeze → lockout, .* driving off p50 [\d.]+ ms, p95 [\d.]+ ms`, out.String())
}
