package h264

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/avlink/avlink/capture"
)

// DefaultFrameRate paces a stream whose SPS has no timing information
// when FileSourceConfig.FrameRate is 0.
const DefaultFrameRate = 30

// FileSourceConfig configures a [FileSource]. The zero value plays the
// stream once, in real time on the wall clock, at the frame rate its SPS
// gives (or 30 fps).
type FileSourceConfig struct {
	// FrameRate is the rate samples are handed out at. 0 means the rate
	// in the SPS's VUI timing information, or DefaultFrameRate without
	// one.
	FrameRate float64
	// Clock paces the samples. nil means capture.WallClock{}.
	Clock capture.Clock
	// Loop starts the stream over at its end instead of returning io.EOF.
	// It needs a reader that can seek (a file does).
	Loop bool
	// Logger receives debug messages. nil means slog.Default().
	Logger *slog.Logger
}

// FileSource plays an Annex-B H.264 stream, one access unit (one
// picture) per sample, paced by a clock. It implements
// [capture.SampleSource]: its samples reach the network untouched, and
// its Codec carries the profile-level-id of the stream's first SPS.
//
// Samples are Annex-B access units with four-byte start codes, without
// access unit delimiters or filler data. A keyframe (IDR) sample always
// carries the SPS and PPS, repeated from earlier in the stream when the
// stream itself does not repeat them, so a receiver can start from any
// keyframe. ReadSample is used from one goroutine at a time; Close may be
// called from another and ends a ReadSample that is waiting.
type FileSource struct {
	cfg   FileSourceConfig
	clock capture.Clock
	log   *slog.Logger

	mu     sync.Mutex
	src    io.Reader
	closer io.Closer
	nr     *NALReader
	ahead  [][]byte // NAL units read but not yet handed out
	sps    *SPS
	spsNAL []byte
	ppsNAL []byte
	codec  capture.Codec
	dur    time.Duration
	start  time.Time
	n      int64
	closed bool
	cancel context.CancelFunc // ends the wait of a running ReadSample
}

var _ capture.SampleSource = (*FileSource)(nil)

// OpenFile opens an Annex-B .h264 (or .264) file. It reads ahead to the
// first SPS to learn the codec; a file whose first picture comes without
// one gives an error wrapping ErrNoSPS.
func OpenFile(path string, cfg FileSourceConfig) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("h264: %w", err)
	}
	s, err := newSource(f, f, cfg)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("h264: %s: %w", path, err)
	}
	return s, nil
}

// NewSource plays the Annex-B stream read from r. If r is an io.Closer,
// Close closes it. Loop needs r to be an io.Seeker.
func NewSource(r io.Reader, cfg FileSourceConfig) (*FileSource, error) {
	c, _ := r.(io.Closer)
	return newSource(r, c, cfg)
}

func newSource(r io.Reader, c io.Closer, cfg FileSourceConfig) (*FileSource, error) {
	if cfg.FrameRate < 0 || cfg.FrameRate > 1000 {
		return nil, fmt.Errorf("%w: frame rate %g", ErrConfig, cfg.FrameRate)
	}
	if _, ok := r.(io.Seeker); cfg.Loop && !ok {
		return nil, fmt.Errorf("%w: Loop needs a reader that can seek", ErrConfig)
	}
	if cfg.Clock == nil {
		cfg.Clock = capture.WallClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &FileSource{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, src: r, closer: c, nr: NewNALReader(r)}
	// Read ahead to the first SPS.
	for s.sps == nil {
		nal, err := s.nr.Next()
		if errors.Is(err, io.EOF) {
			return nil, ErrNoSPS
		}
		if err != nil {
			return nil, err
		}
		switch t := NALType(nal); {
		case t == NALSPS:
			sps, err := ParseSPS(nal)
			if err != nil {
				return nil, err
			}
			s.sps, s.spsNAL = sps, nal
		case t >= NALSlice && t <= NALIDR:
			return nil, ErrNoSPS
		}
		s.ahead = append(s.ahead, nal)
	}
	rate := cfg.FrameRate
	if rate == 0 {
		rate = s.sps.FrameRate
	}
	if rate <= 0 || rate > 1000 {
		rate = DefaultFrameRate
	}
	s.dur = time.Duration(float64(time.Second) / rate)
	s.codec = s.sps.Codec()
	return s, nil
}

// Codec describes the stream for SDP: video/H264 with the
// profile-level-id of its first SPS and packetization-mode=1.
func (s *FileSource) Codec() capture.Codec { return s.codec }

// SPS returns the stream's first sequence parameter set.
func (s *FileSource) SPS() *SPS { return s.sps }

// FrameInterval returns the time between two samples.
func (s *FileSource) FrameInterval() time.Duration { return s.dur }

// ReadSample returns the next access unit when it is due: the first at
// once, the others one frame interval apart on the clock. After a stall
// (a reader that fell more than a frame behind) the schedule restarts from
// the present instead of catching up in a burst. It returns io.EOF at the
// end of a stream that does not loop.
func (s *FileSource) ReadSample(ctx context.Context) (*capture.Sample, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	data, key, err := s.nextAU()
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if s.n == 0 {
		s.start = s.clock.Now()
	}
	due := s.start.Add(time.Duration(s.n) * s.dur)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.cancel = cancel
	s.mu.Unlock()

	err = s.clock.SleepUntil(ctx, due)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel = nil
	if s.closed {
		return nil, ErrClosed
	}
	if err != nil {
		return nil, err
	}
	if now := s.clock.Now(); now.Sub(due) > s.dur {
		s.start = now.Add(-time.Duration(s.n) * s.dur)
		due = now
	}
	s.n++
	return &capture.Sample{Data: data, Duration: s.dur, Time: due, Keyframe: key}, nil
}

// nextAU assembles the next access unit (H.264 7.4.1.2.3: a new one
// starts with an access unit delimiter, parameter set or SEI after a
// picture's slices, or with the first slice of the next picture). Callers
// hold s.mu.
func (s *FileSource) nextAU() (data []byte, key bool, err error) {
	var (
		nals           [][]byte
		vcl, sps, pps  bool
		rewound        bool
		t              int
		nal            []byte
		firstSliceOfAU = func(nal []byte) bool { return len(nal) > 1 && nal[1]&0x80 != 0 } // first_mb_in_slice == 0
	)
	for {
		if len(s.ahead) > 0 {
			nal, s.ahead = s.ahead[0], s.ahead[1:]
		} else {
			nal, err = s.nr.Next()
			if errors.Is(err, io.EOF) {
				if vcl {
					break
				}
				if !s.cfg.Loop || rewound {
					return nil, false, io.EOF
				}
				if err := s.rewind(); err != nil {
					return nil, false, err
				}
				rewound = true
				continue
			}
			if err != nil {
				return nil, false, err
			}
		}
		t = NALType(nal)
		isVCL := t >= NALSlice && t <= NALIDR
		starts := t == NALAUD || t == NALSPS || t == NALPPS || t == NALSEI || (t >= 14 && t <= 18) ||
			(isVCL && firstSliceOfAU(nal))
		if vcl && starts {
			s.ahead = append(s.ahead, nal)
			break
		}
		switch t {
		case NALAUD, NALFillData:
			continue
		case NALSPS:
			if p, err := ParseSPS(nal); err == nil {
				if p.ProfileLevelID() != s.sps.ProfileLevelID() {
					s.log.Debug("h264: SPS changed profile-level-id mid-stream; SDP keeps the first",
						"first", s.sps.ProfileLevelID(), "now", p.ProfileLevelID())
				}
				s.spsNAL = nal
			}
			sps = true
		case NALPPS:
			s.ppsNAL = nal
			pps = true
		case NALIDR:
			key = true
		}
		vcl = vcl || isVCL
		nals = append(nals, nal)
	}
	if key {
		var head [][]byte
		if !sps && s.spsNAL != nil {
			head = append(head, s.spsNAL)
		}
		if !pps && s.ppsNAL != nil {
			head = append(head, s.ppsNAL)
		}
		nals = append(head, nals...)
	}
	return AppendAnnexB(nil, nals...), key, nil
}

// rewind seeks the stream back to its start for Loop.
func (s *FileSource) rewind() error {
	sk, ok := s.src.(io.Seeker)
	if !ok {
		return fmt.Errorf("%w: Loop needs a reader that can seek", ErrConfig)
	}
	if _, err := sk.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("h264: rewind: %w", err)
	}
	s.nr.Reset(s.src)
	return nil
}

// Close ends a waiting ReadSample and closes the underlying reader if it
// is an io.Closer. It is safe to call more than once.
func (s *FileSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
