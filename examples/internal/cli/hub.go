package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/broadcast"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
	"github.com/avlink/avlink/signal/wsclient"
)

// shared is a robot's media encoded once for every viewer.
type shared struct {
	videos []*sharedVideo
	audio  *broadcast.Audio
	// mix plays every viewer's talk-back on the robot's one speaker.
	mix       *playback.Mixer
	newDecode func(capture.Codec) (playback.AudioDecoder, error)
}

type sharedVideo struct {
	b   *broadcast.Video
	cfg rtclink.VideoSender // name and bitrate bounds for each viewer's track
}

// share moves cfg's video and audio into broadcasts. Pre-encoded files
// cannot be shared: a viewer joining midway would wait for a keyframe
// the file may never have.
func share(cfg *rtclink.Config, log *slog.Logger) (*shared, error) {
	sh := &shared{}
	for _, v := range append([]*rtclink.VideoSender{cfg.Video}, cfg.MoreVideo...) {
		if v == nil {
			continue
		}
		if v.Samples != nil {
			return nil, errors.Join(errors.New("several viewers need a live video source (the test pattern, a camera or a .y4m file), not a pre-encoded file"), sh.close())
		}
		b, err := broadcast.NewVideo(broadcast.VideoConfig{Source: v.Source, Encoder: v.Encoder,
			MinBitrate: v.MinBitrate, MaxBitrate: v.MaxBitrate, StartBitrate: v.StartBitrate, Logger: log})
		if err != nil {
			return nil, errors.Join(err, sh.close())
		}
		// A live camera, though each viewer reads it as Samples: render it
		// at once unless the program said otherwise.
		playout := v.Playout
		if playout == rtclink.PlayoutDefault {
			playout = rtclink.PlayoutImmediate
		}
		sh.videos = append(sh.videos, &sharedVideo{b: b, cfg: rtclink.VideoSender{Name: v.Name, MinBitrate: v.MinBitrate,
			MaxBitrate: v.MaxBitrate, StartBitrate: v.StartBitrate, Playout: playout}})
	}
	if a := cfg.Audio; a != nil {
		if a.Samples != nil {
			return nil, errors.Join(errors.New("several viewers need live audio (the tone, a microphone or a .wav file), not a pre-encoded file"), sh.close())
		}
		b, err := broadcast.NewAudio(broadcast.AudioConfig{Source: a.Source, Encoder: a.Encoder, Logger: log})
		if err != nil {
			return nil, errors.Join(err, sh.close())
		}
		sh.audio = b
	}
	if ra := cfg.ReceiveAudio; ra != nil {
		sink, ok := ra.Sink.(playback.AudioSink)
		if !ok || ra.NewDecoder == nil {
			return nil, errors.Join(errors.New("several viewers' talk-back needs a decoder and a sink for decoded audio"), sh.close())
		}
		mix, err := playback.NewMixer(playback.MixerConfig{Sink: sink, Logger: log})
		if err != nil {
			return nil, errors.Join(err, sh.close())
		}
		sh.mix, sh.newDecode = mix, ra.NewDecoder
	}
	cfg.Video, cfg.MoreVideo, cfg.Audio, cfg.ReceiveAudio = nil, nil, nil, nil
	return sh, nil
}

// readers fills cfg with one viewer's readers.
func (sh *shared) readers(cfg *rtclink.Config) error {
	var senders []*rtclink.VideoSender
	var errs []error
	for _, v := range sh.videos {
		r, err := v.b.NewReader()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vs := v.cfg
		vs.Samples = r
		senders = append(senders, &vs)
	}
	if len(senders) > 0 {
		cfg.Video, cfg.MoreVideo = senders[0], senders[1:]
	}
	if sh.audio != nil {
		r, err := sh.audio.NewReader()
		if err != nil {
			errs = append(errs, err)
		} else {
			cfg.Audio = &rtclink.AudioSender{Samples: r}
		}
	}
	if sh.mix != nil {
		cfg.ReceiveAudio = &rtclink.AudioReceiver{NewDecoder: sh.newDecode, Sink: sh.mix.Input()}
	}
	return errors.Join(errs...)
}

func (sh *shared) close() error {
	var errs []error
	for _, v := range sh.videos {
		errs = append(errs, v.b.Close())
	}
	if sh.audio != nil {
		errs = append(errs, sh.audio.Close())
	}
	if sh.mix != nil {
		errs = append(errs, sh.mix.Close())
	}
	return errors.Join(errs...)
}

// RunViewers serves up to n viewers at once in the flags' room until
// Ctrl-C or SIGTERM: cfg's video and audio are encoded once
// (capture/broadcast) and each viewer gets a session of its own
// (rtclink.Hub) reading them. What the viewers say (cfg.ReceiveAudio) is
// mixed into its one sink (playback.Mixer). With tcfg, every viewer gets the teleop and
// E-stop channels and one of them drives at a time (teleop.Control): the
// first to come, then whoever asks once the driver has left the robot
// still, or the longest-waiting viewer when the driver leaves. Any
// viewer's E-stop holds for all.
func (c *Common) RunViewers(cfg rtclink.Config, n int, tcfg *teleop.Config) error {
	log := c.Logger()
	done, err := c.prepare(&cfg)
	if err != nil {
		return err
	}
	defer done()
	WaitEncoders(context.Background(), cfg, log)
	sh, err := share(&cfg, log)
	if err != nil {
		return err
	}
	defer sh.close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	first, fallback := signalURLs(*c.signal)
	sig, err := wsclient.Dial(dctx, first, *c.room, &wsclient.DialOptions{Token: *c.token, Logger: log, FallbackURLs: fallback})
	if err != nil {
		return err
	}
	log.Info("connected to the signaling server", "url", *c.signal, "room", *c.room, "announces_peers", sig.AcknowledgesJoins())

	var ctl *teleop.Control
	if tcfg != nil {
		ctl, err = teleop.NewControl(teleop.ControlConfig{Logger: log})
		if err != nil {
			_ = sig.Close()
			return err
		}
	}
	var mu sync.Mutex
	robots := map[string]*teleop.Robot{}
	hub, err := rtclink.NewHub(rtclink.HubConfig{
		Signaler:   sig,
		MaxViewers: n,
		Logger:     log,
		NewSession: func(viewer string) (rtclink.Config, error) {
			vc := cfg
			vc.Channels = slices.Clone(cfg.Channels)
			if err := sh.readers(&vc); err != nil {
				return vc, err
			}
			if ctl != nil {
				tp, err := ctl.Robot(viewer, *tcfg)
				if err != nil {
					return vc, err
				}
				tp.Wire(&vc)
				mu.Lock()
				robots[viewer] = tp
				mu.Unlock()
			}
			return vc, nil
		},
		OnViewer: func(viewer string, s *rtclink.PeerSession) {
			if ctl == nil {
				return
			}
			mu.Lock()
			tp := robots[viewer]
			if s == nil {
				delete(robots, viewer)
			}
			mu.Unlock()
			switch {
			case s != nil && tp != nil:
				tp.Attach(s)
			case s == nil:
				ctl.Leave(viewer)
			}
		},
	})
	if err != nil {
		_ = sig.Close()
		return err
	}
	defer hub.Close()
	log.Info("serving several viewers, each video and audio encoded once", "room", *c.room, "max_viewers", n)

	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hub.Done():
			return fmt.Errorf("signaling ended: %w", hub.Err())
		case <-t.C:
			args := []any{"viewers", len(hub.Viewers())}
			if ctl != nil {
				args = append(args, "driver", ctl.Holder())
			}
			if len(sh.videos) > 0 {
				st := sh.videos[0].b.Stats()
				args = append(args, "frames_captured", st.Captured, "frames_stale", st.Stale, "frames_encoded", st.Encoded,
					"keyframes", st.Keyframes, "kbps", st.Bitrate/1000)
			}
			log.Info("stats", args...)
		}
	}
}
