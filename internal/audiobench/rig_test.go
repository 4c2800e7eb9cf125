package audiobench

import (
	"context"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/internal/pulsetest"
)

var levelRE = regexp.MustCompile(`audio-receiver: received" level_dbfs=(\S+)`)

// mic-sender → signal-server → audio-receiver: a tone played into the
// microphone, captured as the original deployment's Python microphone
// sender captured (44.1 kHz, blocks of 120 samples, resampled for Opus),
// comes out of the speaker at the same pitch and level, and both programs
// exit on a signal with their devices released.
func TestToneEndToEnd(t *testing.T) {
	srv := pulse.Require(t)
	progs := built(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig, err := Start(ctx, Config{Programs: progs, Pulse: srv,
		SenderArgs:   []string{"-level-every", "1s", "-rate", "44100", "-block", "120"},
		ReceiverArgs: []string{"-level-every", "1s"}})
	require.NoError(t, err)
	defer rig.Close()
	assert.Contains(t, rig.Sender.Log(), "rate=44100 channels=1 block=120")
	for _, p := range []*Proc{rig.Sender, rig.Receiver} {
		for _, phase := range []string{"connecting to the signaling server", "session started, waiting for a peer", "connecting to the peer", "connected: "} {
			assert.Contains(t, p.Log(), phase, "%s logs its phases", p.Name)
		}
	}

	rec, err := srv.Record(pulsetest.Monitor(pulsetest.SpeakerSink), Rate, 1)
	require.NoError(t, err)
	defer rec.Close()
	require.NoError(t, rec.WaitFrames(ctx, Rate/10))
	require.NoError(t, srv.Play(ctx, pulsetest.MicSink, Rate, 1, pulsetest.Sine(1000, 0.5, Rate, 1, 3*Rate)))
	require.NoError(t, rec.WaitFrames(ctx, rec.Frames()+Rate/2))
	got := rec.Samples()

	first, last := pulsetest.Span(got, 0.1)
	require.GreaterOrEqual(t, first, 0, "no tone came out of the speaker")
	span := float64(last-first+1) / Rate
	// Longer is an underrun's silence on a loaded machine, which the
	// jitter buffer then trims away; shorter is audio lost, checked once
	// the speaker has said what it dropped.
	assert.LessOrEqual(t, span, 3.3, "3 s of tone came out as %.3f s", span)
	// On a loaded machine the speaker's device may be fed late and play
	// short dropouts (bounded by the span above). The pitch is the median
	// period over the whole tone, which a dropout does not move; the
	// level, the median over 100 ms windows, which a dropout lowers only
	// in the windows it falls in.
	gappy := 0
	var amps []float64
	for at := first; at+Rate/10 <= last; at += Rate / 10 {
		w := got[at : at+Rate/10]
		if hasDropout(w, Rate/1000) {
			gappy++
		}
		_, a := synth.MeasureTone(w, Rate)
		amps = append(amps, a)
	}
	t.Logf("%d windows of 100 ms, %d with a dropout", len(amps), gappy)
	freq, _ := synth.MeasureTone(got[first:last+1], Rate)
	slices.Sort(amps)
	assert.InEpsilon(t, 1000, freq, 0.005, "pitch")
	assert.InDelta(t, 0.5, amps[len(amps)/2], 0.1, "level")

	// The receiver's level report shows the tone: a sine at half of full
	// scale is −9 dBFS RMS.
	loudest := -1000.0
	for _, m := range levelRE.FindAllStringSubmatch(rig.Receiver.Log(), -1) {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil {
			loudest = max(loudest, v)
		}
	}
	assert.InDelta(t, -9, loudest, 2, "loudest level reported:\n%s", rig.Receiver.Log())

	for _, p := range []*Proc{rig.Sender, rig.Receiver} {
		took, err := p.Stop(10 * time.Second)
		require.NoError(t, err, "%s:\n%s", p.Name, p.Log())
		t.Logf("%s exited %v after SIGTERM", p.Name, took.Round(time.Millisecond))
	}
	assert.Contains(t, rig.Sender.Log(), "msg=\"mic: closed\"")
	assert.Contains(t, rig.Sender.Log(), "microphone released")
	assert.Contains(t, rig.Receiver.Log(), "msg=\"speaker: closed\"")
	assert.Contains(t, rig.Receiver.Log(), "speaker released")
	// Nothing lost but what the jitter buffer dropped, as it must when a
	// stalled device lets it pass its most (and says so).
	dropped := time.Duration(0)
	if m := droppedRE.FindStringSubmatch(rig.Receiver.Log()); m != nil {
		dropped, _ = time.ParseDuration(m[1])
	}
	assert.GreaterOrEqual(t, span, 2.97-dropped.Seconds(), "3 s of tone came out as %.3f s, %v dropped by the speaker's buffer", span, dropped)
}

// droppedRE finds what the speaker's jitter buffer dropped, in its closing
// log line.
var droppedRE = regexp.MustCompile(`speaker: closed.* dropped=(\S+)`)

// Ctrl-C (SIGINT) ends each program as SIGTERM does, even before any peer
// has come.
func TestInterruptWhileWaiting(t *testing.T) {
	srv := pulse.Require(t)
	progs := built(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sig, err := StartProc("signal-server", progs.SignalServer, []string{"-addr", "127.0.0.1:0"}, srv.Env())
	require.NoError(t, err)
	defer sig.Stop(10 * time.Second)
	line, err := sig.WaitFor(ctx, "signal-server: listening")
	require.NoError(t, err)
	url := "ws://" + listenRE.FindStringSubmatch(line)[1]
	for _, bin := range []string{progs.MicSender, progs.AudioReceiver} {
		p, err := StartProc(bin, bin, []string{"-signal", url, "-room", "lonely"}, srv.Env())
		require.NoError(t, err)
		_, err = p.WaitFor(ctx, "waiting for a peer")
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
		require.NoError(t, p.Wait(10*time.Second), "%s", p.Log())
		t.Logf("%s exited %v after SIGINT", bin, time.Since(start).Round(time.Millisecond))
		assert.Contains(t, p.Log(), "released")
	}
}

func run(t *testing.T, env []string, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// -list prints the devices with the default marked.
func TestList(t *testing.T) {
	srv := pulse.Require(t)
	progs := built(t)
	for _, bin := range []string{progs.MicSender, progs.AudioReceiver} {
		out, err := run(t, srv.Env(), bin, "-list")
		require.NoError(t, err, out)
		assert.Regexp(t, `(?m)^0\s+pulse\s+\d+\s+\d+ Hz\s+ALSA`, out)
		assert.Regexp(t, `(?m)^1\s+default\s+.*\sdefault\s*$`, out)
	}
}

// nowhere is an environment whose PulseAudio address leads nowhere, so
// only the machine's own sound cards remain.
func nowhere(t *testing.T) []string {
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PULSE_SERVER=") {
			env = append(env, e)
		}
	}
	return append(env, "PULSE_SERVER=unix:"+t.TempDir()+"/none")
}

// On a machine with no audio device -list says so and exits 0, the
// microphone sender says there is no microphone and exits 1, and the
// receiver says there is no speaker and carries on.
func TestNoDevices(t *testing.T) {
	progs := built(t)
	env := nowhere(t)
	out, err := run(t, env, progs.MicSender, "-list")
	require.NoError(t, err, out)
	if !strings.Contains(out, "no input devices") {
		t.Skipf("this machine has audio devices of its own:\n%s", out)
	}
	assert.NotContains(t, out, "ALSA lib", "ALSA's diagnostics are silenced")
	out, err = run(t, env, progs.AudioReceiver, "-list")
	require.NoError(t, err, out)
	assert.Contains(t, out, "no output devices")

	out, err = run(t, env, progs.MicSender, "-signal", "ws://127.0.0.1:1")
	require.Error(t, err)
	assert.Contains(t, out, "no microphone to send: mic: no input device")

	p, err := StartProc("audio-receiver", progs.AudioReceiver, []string{"-signal", "ws://127.0.0.1:1"}, env)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = p.WaitFor(ctx, "no speaker, so only reporting what arrives")
	require.NoError(t, err)
	_, _ = p.Stop(10 * time.Second)
	assert.Equal(t, 1, strings.Count(p.Log(), "no speaker"), "said once:\n%s", p.Log())
}

// In a terminal, without -device, the microphone sender lists the input
// devices and asks for one, as the original deployment's Python
// microphone sender did. script(1) gives it a terminal.
func TestPromptsForDevice(t *testing.T) {
	srv := pulse.Require(t)
	progs := built(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) for a terminal (Debian: util-linux)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, "-q", "-e", "-c", progs.MicSender+" -signal ws://127.0.0.1:1", os.DevNull)
	cmd.Env = srv.Env()
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Microphone index or name") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	require.Contains(t, out.String(), "Microphone index or name", "no prompt")
	assert.Regexp(t, `(?m)^0\s+pulse\s`, out.String(), "the devices are listed before the prompt")
	_, err = io.WriteString(in, "0\n")
	require.NoError(t, err)
	for !strings.Contains(out.String(), "mic: capturing") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.Regexp(t, `mic: capturing" device=pulse index=0`, out.String())
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = in.Close()
	_ = cmd.Wait()
}

func TestClicksAndMatch(t *testing.T) {
	period := 487 * time.Millisecond
	pcm := Clicks(5, period)
	start := time.Unix(1000, 0)
	sent := Detect(pcm, start, period)
	require.Len(t, sent, 5)
	assert.WithinDuration(t, start.Add(200*time.Millisecond), sent[0], 100*time.Microsecond, "found as its fade-in passes a quarter of full scale")
	assert.Equal(t, period, sent[1].Sub(sent[0]))

	// The same clicks 45 ms later, one of them lost.
	delayed := append(make([]int16, Rate*45/1000), pcm...)
	heard := Detect(delayed, start, period)
	heard = append(heard[:2], heard[3:]...)
	lat := Match(sent, heard, period)
	require.Len(t, lat, 4)
	for _, l := range lat {
		assert.Equal(t, 45*time.Millisecond, l)
	}
	r := Result{Sent: 5, Heard: 4, Latencies: []time.Duration{4, 1, 3, 2}}
	assert.Equal(t, time.Duration(2), r.Percentile(50))
	assert.Equal(t, time.Duration(4), r.Percentile(95))
	assert.Equal(t, time.Duration(1), r.Percentile(0))
	assert.Zero(t, Result{}.Percentile(50))
}

// hasDropout reports whether w holds a run of n samples of near silence,
// far longer than a sine stays near zero at a crossing.
func hasDropout(w []int16, n int) bool {
	run := 0
	for _, x := range w {
		if x > -328 && x < 328 { // 1% of full scale
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func TestHasDropout(t *testing.T) {
	w := make([]int16, Rate/10)
	for i := range w {
		w[i] = int16(16384 * math.Sin(2*math.Pi*1000*float64(i)/Rate))
	}
	assert.False(t, hasDropout(w, Rate/1000), "a steady tone")
	clear(w[1000 : 1000+Rate/500])
	assert.True(t, hasDropout(w, Rate/1000), "2 ms of silence")
}
