package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/mic"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/v4l2"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/examples/internal/avdev"
	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/playback/speaker"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
)

// robot is the demo's robot: a session that offers its camera and
// microphone to whoever opens the page, plays what it hears and logs the
// teleop commands it gets.
type robot struct {
	opts   options
	signal string
	ice    []rtclink.ICEServer
	log    *slog.Logger
	// level hears the page's talk-back when there is no speaker.
	level *levelLog
}

func (r *robot) run(ctx context.Context) error {
	video, err := r.video()
	if err != nil {
		return err
	}
	audio := r.audio()
	hear := r.hear()
	tp, err := cli.TeleopRobot(r.log)
	if err != nil {
		return err
	}
	defer tp.Close()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sig, err := wsclient.Dial(dctx, r.signal, r.opts.room, &wsclient.DialOptions{Logger: r.log})
	if err != nil {
		return err
	}
	defer sig.Close()
	cfg := rtclink.Config{
		Signaler:     sig,
		Role:         rtclink.Offerer,
		ICEServers:   r.ice,
		RelayOnly:    r.opts.relayOnly,
		Video:        video,
		Audio:        audio,
		ReceiveAudio: hear,
		Logger:       r.log,
	}
	tp.Wire(&cfg)
	s, err := rtclink.New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	tp.Attach(s)
	r.log.Info("robot: waiting for the page", "room", r.opts.room)
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.Done():
			return s.Err()
		case <-t.C:
			if st := s.Stats(); st.State == rtclink.StateConnected {
				r.log.Info("robot: stats", "session", st)
			}
		}
	}
}

// video opens the camera -camera names, or the stamped test pattern.
func (r *robot) video() (*rtclink.VideoSender, error) {
	var src capture.VideoSource
	switch spec := r.opts.camera; {
	case spec == "testpattern":
	case spec == "auto":
		if devs, err := v4l2.List(); err == nil {
			for _, d := range devs {
				if !d.Streamable() {
					continue
				}
				cam, err := v4l2.Open(d.Path, v4l2.Config{Logger: r.log})
				if err != nil {
					r.log.Info("robot: camera not usable, trying the next", "node", d.Path, "err", err)
					continue
				}
				r.log.Info("robot: camera", "node", d.Path, "card", cam.Info().Card, "mode", cam.Mode().String())
				src = cam
				break
			}
		}
	default:
		cam, _, err := avdev.OpenCamera(spec, v4l2.Config{Logger: r.log})
		if err != nil {
			return nil, fmt.Errorf("-camera %s: %w (-camera testpattern runs without one)", spec, err)
		}
		src = cam
	}
	if src == nil {
		p, err := synth.NewPattern(synth.PatternConfig{})
		if err != nil {
			return nil, err
		}
		r.log.Info("robot: no camera, sending the moving test pattern (its stamp shows the latency in the page)")
		src = p
	}
	enc, err := avdev.VP8Encoder(src, vp8.EncoderConfig{Logger: r.log})
	if err != nil {
		return nil, errors.Join(err, src.Close())
	}
	return &rtclink.VideoSender{Source: src, Encoder: enc}, nil
}

// audio opens the microphone -mic names, or a tone; nil for none.
func (r *robot) audio() *rtclink.AudioSender {
	var src capture.AudioSource
	switch r.opts.mic {
	case "none":
		return nil
	case "tone":
	default:
		dev := r.opts.mic
		if dev == "auto" {
			dev = ""
		}
		m, err := mic.Open(mic.Config{Device: dev, Logger: r.log})
		if err != nil {
			r.log.Info("robot: no microphone, sending a 440 Hz tone", "err", err)
			break
		}
		r.log.Info("robot: microphone", "device", m.Device().Name)
		src = m
	}
	if src == nil {
		t, err := synth.NewTone(synth.ToneConfig{Frequency: 440, Amplitude: 0.1})
		if err != nil {
			r.log.Warn("robot: no audio", "err", err)
			return nil
		}
		src = t
	}
	a, err := avdev.OpusSender(src, r.log)
	if err != nil {
		r.log.Warn("robot: no audio", "err", err)
		_ = src.Close()
		return nil
	}
	return a
}

// hear plays the page's talk-back on the speaker, or logs its level.
func (r *robot) hear() *rtclink.AudioReceiver {
	if r.opts.speaker == "none" {
		return avdev.OpusReceiver(r.level.sink())
	}
	dev := r.opts.speaker
	if dev == "auto" {
		dev = ""
	}
	sp, err := speaker.Open(speaker.Config{Device: dev, Logger: r.log})
	if err != nil {
		r.log.Info("robot: no speaker, logging the level of what it hears instead", "err", err)
		return avdev.OpusReceiver(r.level.sink())
	}
	r.log.Info("robot: speaker", "device", sp.Device().Name)
	return avdev.OpusReceiver(sp)
}

// levelLog is an AudioSink that logs the level and the pitch of what it
// hears every 5 s, and keeps the last second for Tone. Its sink measures
// the level with a [cli.Meter] on the way in.
type levelLog struct {
	log   *slog.Logger
	meter cli.Meter

	mu    sync.Mutex
	since time.Time
	rate  int
	last  []int16 // the last second, mono, oldest first from next
	next  int
	total int64 // mono samples heard
}

func newLevelLog(log *slog.Logger) *levelLog {
	return &levelLog{log: log, since: time.Now()}
}

// sink is l behind its meter: what the session writes to.
func (l *levelLog) sink() playback.AudioSink { return cli.MeteredSink{Sink: l, Meter: &l.meter} }

// WriteAudio keeps f for Tone and, 5 s after the last time, logs the
// level the meter measured since then with the pitch of the last second.
func (l *levelLog) WriteAudio(f *capture.AudioFrame) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keep(f)
	if time.Since(l.since) < 5*time.Second {
		return nil
	}
	db, _, n := l.meter.Take()
	if n == 0 {
		return nil
	}
	hz, _ := synth.MeasureTone(l.lastSecond(), l.rate)
	// Digital silence logs as −120 dBFS, not −Inf.
	l.log.Info("robot: hearing the page", "level_dBFS", math.Round(max(db, -120)*10)/10, "pitch_Hz", math.Round(hz))
	l.since = time.Now()
	return nil
}

// keep adds f's first channel to the last second.
func (l *levelLog) keep(f *capture.AudioFrame) {
	ch := max(f.Channels, 1)
	if f.Rate <= 0 {
		return
	}
	if f.Rate != l.rate {
		l.rate, l.last, l.next, l.total = f.Rate, make([]int16, 0, f.Rate), 0, 0
	}
	for i := 0; i < len(f.Samples); i += ch {
		if len(l.last) < cap(l.last) {
			l.last = append(l.last, f.Samples[i])
		} else {
			l.last[l.next] = f.Samples[i]
			l.next = (l.next + 1) % len(l.last)
		}
		l.total++
	}
}

func (l *levelLog) lastSecond() []int16 {
	out := make([]int16, 0, len(l.last))
	out = append(out, l.last[l.next:]...)
	return append(out, l.last[:l.next]...)
}

// Tone measures the pitch (Hz) and peak amplitude (fraction of full
// scale) of the last second heard, and says how much has been heard in
// all.
func (l *levelLog) Tone() (hz, amp float64, heard time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate == 0 {
		return 0, 0, 0
	}
	hz, amp = synth.MeasureTone(l.lastSecond(), l.rate)
	return hz, amp, time.Duration(l.total) * time.Second / time.Duration(l.rate)
}

func (l *levelLog) Close() error { return nil }
