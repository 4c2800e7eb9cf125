package cli

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A program joins its room once its VP8 encoder, given the frame size,
// has set libvpx up.
func TestWaitEncodersWaitsForSetUp(t *testing.T) {
	enc, err := vp8.NewEncoder(vp8.EncoderConfig{Width: 640, Height: 480})
	require.NoError(t, err)
	defer enc.Close()
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	WaitEncoders(context.Background(), rtclink.Config{Video: &rtclink.VideoSender{Encoder: enc}}, log)

	done, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, enc.WaitPrepared(done), "joined before the encoder was set up")
	assert.Contains(t, out.String(), "video encoders set up before joining")
}

// stuckEncoder never finishes setting itself up.
type stuckEncoder struct{ capture.VideoEncoder }

func (stuckEncoder) WaitPrepared(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// An encoder that never gets ready holds the program up only until it is
// stopped (or the wait's bound), and a stop is not reported as a problem.
func TestWaitEncodersStops(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	WaitEncoders(ctx, rtclink.Config{Video: &rtclink.VideoSender{Encoder: stuckEncoder{}}}, log)
	assert.Error(t, ctx.Err(), "returned before it was stopped")
	assert.NotContains(t, out.String(), "joining before", "a stop reported as a slow encoder")
}
