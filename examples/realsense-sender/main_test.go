package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	"github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/internal/syncbuf"
	"github.com/avlink/avlink/rtclink"
)

var binDir string

func TestMain(m *testing.M) {
	// serve reads the shared flags, as the program registers them.
	cli.Flags()
	var err error
	if binDir, err = os.MkdirTemp("", "realsense-sender-test"); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { os.RemoveAll(binDir) }))
}

var (
	buildOnce sync.Once
	buildErr  error
)

// program builds the command once and returns its path.
func program(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "realsense-sender")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return bin
}

// started is a running program.
type started struct {
	cmd  *exec.Cmd
	logs *syncbuf.Buffer
	done chan struct{} // closed when it has exited
	err  error         // cmd.Wait's result, once done
}

// start runs the program with args; its standard error is logs. The
// test's end kills it if it is still running.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	return startEnv(t, nil, args...)
}

// startEnv is start with env as the program's environment (nil: the
// test's own).
func startEnv(t *testing.T, env []string, args ...string) *started {
	t.Helper()
	r := &started{cmd: exec.Command(program(t), args...), logs: &syncbuf.Buffer{}, done: make(chan struct{})}
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	r.cmd.Env = env
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// wait waits for the program to end; the bound only keeps a broken build
// from hanging the test.
func (r *started) wait(t *testing.T) (code int, took time.Duration) {
	t.Helper()
	t0 := time.Now()
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the program did not exit; its log:\n%s", r.logs)
	}
	took = time.Since(t0)
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode(), took
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return 0, took
}

// The robot sends the stamped test pattern to a viewer in its room and
// stops cleanly on SIGTERM, releasing its camera.
func TestSendsTestPatternAndStopsOnSIGTERM(t *testing.T) {
	url := rtctest.WS(rtctest.SignalServer(t, nil))
	video := rtctest.NewVideoCollector()
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: rtctest.Dial(t, url, "robot"), ReceiveVideo: rtctest.VideoReceiver(video),
		IncludeLoopback: true, Logger: rtctest.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()

	statsFile := filepath.Join(t.TempDir(), "stats.json")
	p := start(t, "-signal", url, "-room", "robot", "-camera", "testpattern", "-size", "320x240", "-loopback", "-mic", "none", "-speaker", "none", "-stats-json", statsFile)
	logs := p.logs
	rtctest.Eventually(t, 60*time.Second, func() bool {
		_, stamped, _, _ := video.Count()
		return stamped >= 30
	}, "fewer than 30 stamped frames decoded; the program's log:\n%s", logs)
	frames, stamped, w, h := video.Count()
	if w != 320 || h != 240 {
		t.Fatalf("decoded %dx%d, want the pattern's 320x240", w, h)
	}
	t.Logf("%d frames decoded, %d with a readable stamp", frames, stamped)
	for _, phase := range []string{"connecting to the signaling server", "in the room, waiting for a viewer",
		"connecting to the viewer", "connected: sending video to the viewer", "camera: sending the stamped test pattern"} {
		if !strings.Contains(logs.String(), phase) {
			t.Errorf("the log does not say %q:\n%s", phase, logs)
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, took := p.wait(t)
	t.Logf("exited %v after SIGTERM", took)
	if code != 0 {
		t.Fatalf("exit code %d after SIGTERM; log:\n%s", code, logs)
	}
	for _, line := range []string{"stopping: interrupted", "call closed", "camera: released"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("the log does not say %q:\n%s", line, logs)
		}
	}
	// -stats-json: the final stats, with what was sent and over which pair.
	data, err := os.ReadFile(statsFile)
	if err != nil {
		t.Fatalf("no -stats-json file: %v; log:\n%s", err, logs)
	}
	var st struct {
		Pair struct {
			Local string `json:"local"`
		} `json:"pair"`
		VideoOut struct {
			Frames int64 `json:"frames_sent"`
		} `json:"video_out"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("-stats-json is not JSON: %v\n%s", err, data)
	}
	if st.VideoOut.Frames < 30 || st.Pair.Local == "" {
		t.Errorf("-stats-json lacks the frames sent or the pair:\n%s", data)
	}
}

// A camera that is not there is an error that names the way to run
// without one.
func TestMissingCameraNamesTestPattern(t *testing.T) {
	cases := [][]string{{"-camera", "/dev/video99"}}
	if nodes, _ := filepath.Glob("/dev/video*"); len(nodes) == 0 {
		cases = append(cases, []string{}, []string{"-camera", "Kinect"}) // the default, -camera realsense
	}
	for _, args := range cases {
		p := start(t, append([]string{"-signal", "ws://127.0.0.1:1"}, args...)...)
		logs := p.logs
		if code, _ := p.wait(t); code != 1 {
			t.Fatalf("%v: exit code %d; output:\n%s", args, code, logs)
		}
		out := logs.String()
		if !strings.Contains(out, "-camera testpattern") || !strings.Contains(out, "no such camera") {
			t.Errorf("%v: the error does not name -camera testpattern or say what is missing:\n%s", args, out)
		}
		if len(args) > 0 && !strings.Contains(out, strings.TrimPrefix(args[1], "/dev/")) {
			t.Errorf("%v: the error does not name the camera:\n%s", args, out)
		}
	}
}

func TestListCameras(t *testing.T) {
	p := start(t, "-list-cameras")
	logs := p.logs
	if code, _ := p.wait(t); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, logs)
	}
	if nodes, _ := filepath.Glob("/dev/video*"); len(nodes) == 0 {
		if out := logs.String(); !strings.Contains(out, "no video nodes") || !strings.Contains(out, "-camera testpattern") {
			t.Fatalf("listing on a machine without cameras:\n%s", out)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"-camera", "testpattern", "-size", "big"}, "-size"},
		{[]string{"-camera", "/dev/video99", "-format", "toolong"}, "-format"},
		{[]string{"-camera", "testpattern", "-fps", "-3"}, "-fps"},
	} {
		p := start(t, tc.args...)
		if code, _ := p.wait(t); code != 1 || !strings.Contains(p.logs.String(), tc.says) {
			t.Errorf("%v: exit code %d, output:\n%s", tc.args, code, p.logs)
		}
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A camera that fails mid-call ends serve with its error, and every
// device is released.
func TestDeviceFailureEndsTheProgram(t *testing.T) {
	url := rtctest.WS(rtctest.SignalServer(t, nil))
	if err := flag.Set("signal", url); err != nil {
		t.Fatal(err)
	}
	pattern, err := synth.NewPattern(synth.PatternConfig{Width: 160, Height: 120})
	if err != nil {
		t.Fatal(err)
	}
	gone := errors.New("camera unplugged")
	var reads int
	failing := &closeCounter{VideoSource: capture.VideoSourceFunc(func(ctx context.Context) (*capture.VideoFrame, error) {
		if reads++; reads > 5 {
			return nil, gone
		}
		return pattern.ReadVideo(ctx)
	})}
	devs := newDevices(quiet)
	enc, err := vp8.NewEncoder(vp8.EncoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rtclink.Config{Role: rtclink.Offerer, IncludeLoopback: true,
		Video: &rtclink.VideoSender{Source: devs.addVideo("camera", failing), Encoder: enc}}
	err = serve(context.Background(), cfg, devs, quiet)
	if !errors.Is(err, gone) || !strings.Contains(err.Error(), "camera failed") {
		t.Fatalf("serve: %v, want the camera's failure", err)
	}
	devs.closeAll()
	if failing.closes.Load() == 0 {
		t.Fatal("the camera was not closed")
	}
}

// A read ended by its context or after Close is not a failure.
func TestWatchedVideoIgnoresCancellation(t *testing.T) {
	devs := newDevices(quiet)
	src := &closeCounter{VideoSource: capture.VideoSourceFunc(func(ctx context.Context) (*capture.VideoFrame, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})}
	w := devs.addVideo("camera", src)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.ReadVideo(ctx); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	w.Close()
	eof := devs.addVideo("file", capture.VideoSourceFunc(func(context.Context) (*capture.VideoFrame, error) { return nil, io.EOF }))
	eof.Close()
	_, _ = eof.ReadVideo(context.Background())
	select {
	case err := <-devs.Failed():
		t.Fatalf("reported as a failure: %v", err)
	default:
	}
	devs.closeAll()
	if n := src.closes.Load(); n != 2 {
		t.Fatalf("closed %d times, want once by the session and once on the way out", n)
	}
}

type closeCounter struct {
	capture.VideoSource
	closes atomic.Int32
}

func (c *closeCounter) Close() error { c.closes.Add(1); return nil }
