package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/cdp"
	"github.com/avlink/avlink/playback/filesink"
)

// talkHz is the tone the page's fake microphone plays: neither the
// robot's own 440 Hz nor the fake device's built-in 400 Hz beep.
const talkHz = 600

// checkFigures is what the self-check saw; a nil or zero figure is
// missing.
type checkFigures struct {
	frames      int      // frames decoded in the page
	latencyMs   *float64 // capture-to-screen, from the pattern's stamps
	audioDBFS   *float64 // the robot's audio as it arrives in the page
	talkHz      float64  // the pitch of the page's talk-back at the robot
	talkHeard   time.Duration
	teleopRTTMs *float64 // a key press's round trip
}

// pageState is the part of window.avlinkViewer.state() the check reads.
type pageState struct {
	Connection    string   `json:"connection"`
	FramesDecoded int      `json:"framesDecoded"`
	AudioPackets  int      `json:"audioPackets"`
	LatencyMs     *float64 `json:"latencyMs"`
	Mic           string   `json:"mic"`
	MicSent       bool     `json:"micSent"`
	Teleop        struct {
		Open   bool     `json:"open"`
		Echoes int      `json:"echoes"`
		RTTMs  *float64 `json:"rttMs"`
	} `json:"teleop"`
	Message string `json:"message"`
}

// selfCheck runs the demo on free ports with the test pattern and a tone,
// opens its page in a headless Chromium (the binary at chromium) whose
// fake microphone plays a talkHz tone, and prints to out what the page
// and the robot saw. It returns an error naming what is missing.
func selfCheck(ctx context.Context, o options, chromium string, out io.Writer, log *slog.Logger) error {
	if _, err := os.Stat(chromium); err != nil {
		return fmt.Errorf("-check needs Chromium: no browser at %s (apt-get install chromium, or name it with -chromium)", chromium)
	}
	turnPort, err := freePort()
	if err != nil {
		return err
	}
	if o.room == "" {
		o.room = "demo"
	}
	o.addr, o.turnPort, o.public = "127.0.0.1:0", turnPort, ""
	o.camera, o.mic, o.speaker = "testpattern", "tone", "none"

	dir, err := os.MkdirTemp("", "avlink-demo-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	wav := filepath.Join(dir, "talk.wav")
	if err := writeToneWAV(wav, talkHz); err != nil {
		return err
	}

	type started struct {
		url   string
		heard *levelLog
	}
	ready := make(chan started, 1)
	o.ready = func(url string, heard *levelLog) { ready <- started{url, heard} }
	dctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run(dctx, o, io.Discard, log) }()
	// stopDemo ends the demo and returns its error, if it ended with one.
	stopDemo := func() error {
		stop()
		select {
		case err := <-done:
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case <-time.After(15 * time.Second):
			return errors.New("the demo did not stop within 15 s")
		}
	}

	var st started
	select {
	case st = <-ready:
	case err := <-done:
		return fmt.Errorf("the demo did not start: %w", err)
	case <-ctx.Done():
		return errors.Join(ctx.Err(), stopDemo())
	case <-time.After(15 * time.Second):
		return errors.Join(errors.New("the demo did not start within 15 s"), stopDemo())
	}
	fmt.Fprintf(out, "demo self-check: %s with Chromium (%s), talking at %d Hz\n", st.url, chromium, talkHz)
	figs, err := checkPage(ctx, st.url+"&mic=raw", chromium, wav, st.heard, log)
	if err := errors.Join(err, stopDemo()); err != nil {
		return err
	}
	return report(out, figs)
}

// report prints figs and returns an error naming what is missing.
func report(out io.Writer, f checkFigures) error {
	var missing []string
	line := func(what, value string, ok bool, missingAs string) {
		if !ok {
			value = "MISSING"
			missing = append(missing, missingAs)
		}
		fmt.Fprintf(out, "  %-38s %s\n", what+":", value)
	}
	line("frames decoded in the page", strconv.Itoa(f.frames), f.frames > 0, "decoded video frames in the page")
	line("capture-to-screen latency", msText(f.latencyMs), f.latencyMs != nil, "the capture-to-screen latency")
	dbOK := f.audioDBFS != nil && *f.audioDBFS > -70
	db := ""
	if f.audioDBFS != nil {
		db = fmt.Sprintf("%.1f dBFS", *f.audioDBFS)
	}
	line("robot's audio level in the page", db, dbOK, "the robot's audio in the page"+ifSome(db))
	talkOK := f.talkHeard >= 2*time.Second && math.Abs(f.talkHz-talkHz) <= 10
	talk := ""
	if f.talkHeard > 0 {
		talk = fmt.Sprintf("%.1f Hz (sent %d Hz; %.1f s heard)", f.talkHz, talkHz, f.talkHeard.Seconds())
	}
	line("talk-back tone heard by the robot", talk, talkOK, fmt.Sprintf("the %d Hz talk-back tone at the robot", talkHz)+ifSome(talk))
	line("teleop round trip", msText(f.teleopRTTMs), f.teleopRTTMs != nil, "the teleop round trip")
	if len(missing) > 0 {
		fmt.Fprintln(out, "self-check FAILED")
		return fmt.Errorf("self-check: missing %s", strings.Join(missing, "; "))
	}
	fmt.Fprintln(out, "self-check passed")
	return nil
}

func ifSome(s string) string {
	if s == "" {
		return ""
	}
	return " (got " + s + ")"
}

func msText(ms *float64) string {
	if ms == nil {
		return ""
	}
	return fmt.Sprintf("%.0f ms", *ms)
}

// checkPage opens url in Chromium and takes the figures. It returns an
// error only when the browser cannot be driven at all.
func checkPage(ctx context.Context, url, chromium, wav string, heard *levelLog, log *slog.Logger) (checkFigures, error) {
	var f checkFigures
	args := append([]string(nil), cdp.HeadlessArgs...)
	args = append(args, cdp.FakeMediaArgs...)
	args = append(args, "--use-file-for-fake-audio-capture="+wav, "--autoplay-policy=no-user-gesture-required")
	b, err := cdp.Launch(cdp.Config{Path: chromium, Args: args, URL: url})
	if err != nil {
		return f, err
	}
	defer b.Close()

	state := func() (pageState, error) {
		var s pageState
		err := b.Eval("window.avlinkViewer ? window.avlinkViewer.state() : null", &s)
		return s, err
	}
	// wait polls the page's state until cond holds, for up to d.
	wait := func(d time.Duration, what string, cond func(pageState) bool) (pageState, bool) {
		deadline := time.Now().Add(d)
		for {
			s, err := state()
			if err == nil && cond(s) {
				return s, true
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				log.Warn("self-check: the page never showed "+what, "waited", d, "state", fmt.Sprintf("%+v", s), "err", err)
				return s, false
			}
			sleep(ctx, 200*time.Millisecond)
		}
	}

	if _, ok := wait(30*time.Second, "a live call", func(s pageState) bool {
		return s.Connection == "connected" && s.FramesDecoded > 0
	}); !ok {
		log.Warn("self-check: chromium output", "tail", lastBytes(b.Output(), 2000))
		return f, nil
	}
	// Let it run a few seconds, then read the video figures.
	sleep(ctx, 3*time.Second)
	s, _ := wait(10*time.Second, "the latency", func(s pageState) bool { return s.LatencyMs != nil })
	f.frames, f.latencyMs = s.FramesDecoded, s.LatencyMs

	var level struct {
		DB  *float64 `json:"db"`
		Err string   `json:"err"`
	}
	if err := b.Eval(levelJS, &level); err != nil {
		log.Warn("self-check: measuring the page's audio", "err", err)
	} else if level.Err != "" {
		log.Warn("self-check: measuring the page's audio", "err", level.Err)
	}
	f.audioDBFS = level.DB

	// Talk: the robot must hear the tone.
	if err := b.Eval("document.getElementById('talk').click()", nil); err != nil {
		return f, err
	}
	if _, ok := wait(15*time.Second, "the microphone on and sent", func(s pageState) bool { return s.Mic == "on" && s.MicSent }); ok {
		deadline := time.Now().Add(20 * time.Second)
		for ctx.Err() == nil && time.Now().Before(deadline) {
			if _, _, d := heard.Tone(); d >= 2*time.Second {
				break
			}
			sleep(ctx, 200*time.Millisecond)
		}
		f.talkHz, _, f.talkHeard = heard.Tone()
	}

	// Teleop: hold the up arrow until an echo comes back. The page
	// ignores a held key while its video is stale (a busy machine can
	// stall it for a moment), so press again, a few times at most.
	if _, ok := wait(10*time.Second, "the teleop channel open", func(s pageState) bool { return s.Teleop.Open }); ok {
		for try := 0; try < 5 && f.teleopRTTMs == nil; try++ {
			if err := b.Key("keyDown", "ArrowUp", "ArrowUp", 38); err != nil {
				return f, err
			}
			s, _ := wait(2*time.Second, "a teleop round trip", func(s pageState) bool { return s.Teleop.RTTMs != nil })
			f.teleopRTTMs = s.Teleop.RTTMs
			if err := b.Key("keyUp", "ArrowUp", "ArrowUp", 38); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// levelJS measures, for one second, the level of the robot's audio in the
// stream the page plays, with WebAudio; it returns {db} or {err}.
const levelJS = `(async () => {
  const v = document.getElementById('video');
  const s = v && v.srcObject;
  if (!s || s.getAudioTracks().length === 0) return {err: 'no audio track in the page'};
  const ac = new AudioContext();
  try {
    await ac.resume();
    const src = ac.createMediaStreamSource(new MediaStream(s.getAudioTracks()));
    const an = ac.createAnalyser();
    an.fftSize = 2048;
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    let sum = 0, n = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      an.getFloatTimeDomainData(buf);
      for (const x of buf) { sum += x * x; n++; }
    }
    return {db: 10 * Math.log10(sum / n + 1e-12)};
  } finally {
    ac.close();
  }
})()`

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// freePort finds a port free for both UDP and TCP on this machine, for
// the TURN server.
func freePort() (int, error) {
	var err error
	for range 10 {
		var c net.PacketConn
		c, err = net.ListenPacket("udp", ":0")
		if err != nil {
			continue
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		var l net.Listener
		l, err = net.Listen("tcp", ":"+strconv.Itoa(port))
		c.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port for the TURN server: %w", err)
}

// writeToneWAV writes one second of a hz sine at half full scale, 48 kHz:
// a whole number of cycles, so Chromium's fake microphone loops it
// seamlessly.
func writeToneWAV(path string, hz int) error {
	const rate = 48000
	pcm := make([]int16, rate)
	for i := range pcm {
		pcm[i] = int16(0.5 * math.MaxInt16 * math.Sin(2*math.Pi*float64(hz*i)/rate))
	}
	w, err := filesink.CreateWAV(path)
	if err != nil {
		return err
	}
	return errors.Join(w.WriteAudio(&capture.AudioFrame{Rate: rate, Channels: 1, Samples: pcm}), w.Close())
}
