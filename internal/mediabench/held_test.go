package mediabench

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeldSourceResendsOnConnect(t *testing.T) {
	feed := make(chan *capture.VideoFrame)
	src := capture.VideoSourceFunc(func(ctx context.Context) (*capture.VideoFrame, error) {
		select {
		case f, ok := <-feed:
			if !ok {
				return nil, io.EOF
			}
			return f, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	connected := make(chan struct{})
	h := newHeldSource(src, connected)
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := i420(64, 48, 1, 128)
	feed <- first
	f, err := h.ReadVideo(ctx)
	require.NoError(t, err)
	assert.Same(t, first, f, "frames pass through")

	// The source has nothing new; the connection comes up.
	close(connected)
	again, err := h.ReadVideo(ctx)
	require.NoError(t, err)
	assert.NotSame(t, first, again, "a copy of the last frame")
	assert.Equal(t, first.Data, again.Data)

	second := i420(64, 48, 2, 128)
	feed <- second
	f, err = h.ReadVideo(ctx)
	require.NoError(t, err)
	assert.Same(t, second, f, "only once per connection")

	close(feed)
	_, err = h.ReadVideo(ctx)
	assert.ErrorIs(t, err, io.EOF)
}

func TestHeldSourceCloseStopsPump(t *testing.T) {
	src := capture.VideoSourceFunc(func(ctx context.Context) (*capture.VideoFrame, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	h := newHeldSource(src, make(chan struct{}))
	require.NoError(t, h.Close())
	require.NoError(t, h.Close(), "idempotent")
	// goleak in TestMain checks that the pump ended.
}
