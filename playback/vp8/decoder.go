package vp8

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/vpx"
	"github.com/avlink/avlink/playback"
)

// DecoderConfig configures a [Decoder]. The zero value is a single-threaded
// decoder logging to slog.Default().
type DecoderConfig struct {
	// Threads is the number of decoder threads. 0 means 1: VP8 streams
	// sent with one token partition, as realtime encoders send them, do
	// not decode faster with more.
	Threads int
	// ReuseFrames makes Decode return frames whose Data is overwritten by
	// the next Decode, saving an allocation of a whole picture per frame
	// (and the garbage collection that follows). Leave it false unless
	// every consumer of the frames is done with one before the next
	// arrives, as a sink that encodes or displays at once is.
	ReuseFrames bool
	// Logger receives debug messages about frames given up on. nil means
	// slog.Default().
	Logger *slog.Logger
}

// Decoder is a libvpx VP8 decoder. It implements [playback.VideoDecoder].
// Decode is used from one goroutine at a time; Close may be called from
// another and waits for a running Decode.
type Decoder struct {
	log *slog.Logger

	mu      sync.Mutex
	d       *vpx.Decoder
	closed  bool
	needKey bool
	reuse   bool
	buf     []byte // the picture buffer when reusing frames
}

var (
	_ playback.VideoDecoder = (*Decoder)(nil)
	_ playback.SizePreparer = (*Decoder)(nil)
)

// NewDecoder returns a decoder configured by cfg.
func NewDecoder(cfg DecoderConfig) (*Decoder, error) {
	if cfg.Threads < 0 || cfg.Threads > 64 {
		return nil, fmt.Errorf("%w: threads %d", ErrConfig, cfg.Threads)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d, err := vpx.NewDecoder(max(cfg.Threads, 1))
	if err != nil {
		return nil, fmt.Errorf("vp8: %w", err)
	}
	return &Decoder{log: cfg.Logger, d: d, needKey: true, reuse: cfg.ReuseFrames}, nil
}

// Decode decodes one complete VP8 frame and returns it as a tightly
// packed I420 frame (Time left zero for the caller to set). It returns a
// nil frame and no error while it waits for a keyframe: before the first
// one, and after a frame failed to decode. A frame that cannot be decoded
// returns an error wrapping [ErrCorrupt].
func (d *Decoder) Decode(data []byte) (*capture.VideoFrame, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	tag, ok := vpx.ParseFrameTag(data)
	if !ok {
		d.needKey = true
		return nil, fmt.Errorf("%w: bad frame header (%d bytes)", ErrCorrupt, len(data))
	}
	if d.needKey && !tag.Keyframe {
		return nil, nil
	}
	var dst []byte
	if d.reuse {
		dst = d.buf
	}
	pix, w, h, err := d.d.DecodeInto(data, dst)
	if err != nil {
		d.needKey = true
		d.log.Debug("vp8: frame not decoded, waiting for a keyframe", "bytes", len(data), "err", err)
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if tag.Keyframe {
		d.needKey = false
	}
	if pix == nil {
		return nil, nil
	}
	if d.reuse {
		d.buf = pix
	}
	return &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h, Data: pix}, nil
}

// Prepare sets libvpx up for width×height pictures ahead of the first
// frame (see [playback.SizePreparer]). It hands libvpx the header of a
// keyframe of that size with no picture data: libvpx allocates its frame
// buffers for the size from the header, then finds the frame incomplete,
// which Prepare expects. The decoder still waits for a real keyframe.
func (d *Decoder) Prepare(width, height int) error {
	if width <= 0 || height <= 0 || width > 16383 || height > 16383 {
		return fmt.Errorf("%w: size %dx%d outside 1..16383", ErrConfig, width, height)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	// Frame tag: keyframe, version 0, shown, first partition 1 byte; the
	// keyframe start code; the size (no scaling); then too little data.
	hdr := []byte{0x30, 0, 0, 0x9d, 0x01, 0x2a, byte(width), byte(width >> 8), byte(height), byte(height >> 8), 0, 0}
	_, _, _, _ = d.d.DecodeInto(hdr, nil)
	d.needKey = true
	return nil
}

// NeedKeyframe reports whether the decoder is waiting for a keyframe, so
// the caller should ask the sender for one.
func (d *Decoder) NeedKeyframe() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.needKey && !d.closed
}

// Close releases libvpx. It is safe to call more than once; Decode
// returns ErrClosed afterwards.
func (d *Decoder) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return d.d.Close()
}

// IsKeyframe reports whether data is a VP8 keyframe (its frame tag's
// type bit is 0 and the keyframe start code follows), the kind of frame a
// decoder can start from.
func IsKeyframe(data []byte) bool {
	tag, ok := vpx.ParseFrameTag(data)
	return ok && tag.Keyframe
}
