package interop

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pageResult is what viewer.html posts to /result.
type pageResult struct {
	Why              string   `json:"why"`
	Errors           []string `json:"errors"`
	ICEStates        []string `json:"iceStates"`
	LocalCandidates  []string `json:"localCandidates"`
	RemoteCandidates []string `json:"remoteCandidates"`
	TrackEvents      []struct {
		Kind        string   `json:"kind"`
		Streams     int      `json:"streams"`
		StreamID    string   `json:"streamId"`
		StreamKinds []string `json:"streamKinds"`
	} `json:"trackEvents"`
	StreamID       string    `json:"streamId"`
	StreamKinds    []string  `json:"streamKinds"`
	PaintedFrames  int       `json:"paintedFrames"`
	FramesDecoded  int       `json:"framesDecoded"`
	FrameWidth     int       `json:"frameWidth"`
	FrameHeight    int       `json:"frameHeight"`
	VideoWidth     int       `json:"videoWidth"`
	VideoHeight    int       `json:"videoHeight"`
	VideoCodec     string    `json:"videoCodec"`
	AudioCodec     string    `json:"audioCodec"`
	AudioPackets   int       `json:"audioPackets"`
	AudioSamples   int       `json:"audioSamples"`
	StampsRead     int       `json:"stampsRead"`
	StampLatencyMs []float64 `json:"stampLatencyMs"`
	Pair           string    `json:"pair"`
	SentMic        bool      `json:"sentMic"`
}

func (r *pageResult) medianLatencyMs() float64 {
	if len(r.StampLatencyMs) == 0 {
		return 0
	}
	l := append([]float64(nil), r.StampLatencyMs...)
	sort.Float64s(l)
	return l[len(l)/2]
}

// chromiumPath returns the browser binary, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("AVLINK_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no Chromium at %s (Debian: apt-get install chromium, or set AVLINK_CHROMIUM)", p)
	}
	return p
}

// page is viewer.html served beside the signaling server.
type page struct {
	base    string
	results chan pageResult
	logs    chan string
}

// viewerPage serves viewer.html and stamp.js beside the signaling server,
// with the endpoints the page reports its progress and its result to.
func viewerPage(t *testing.T) *page {
	t.Helper()
	html, err := os.ReadFile("testdata/viewer.html")
	require.NoError(t, err)
	p := &page{results: make(chan pageResult, 4), logs: make(chan string, 256)}
	p.base = signalServer(t, map[string]http.Handler{
		"/viewer.html": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(html)
		}),
		"/stamp.js": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write(stamp.JS())
		}),
		"/log": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
			if verbose() {
				t.Logf("page: %s", b)
			}
			select {
			case p.logs <- string(b):
			default:
			}
		}),
		"/result": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var res pageResult
			if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&res); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			select {
			case p.results <- res:
			default:
			}
		}),
	})
	return p
}

// waitLog waits for a progress line of the page that contains s.
func (p *page) waitLog(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-p.logs:
			if strings.Contains(l, s) {
				return
			}
		case <-timeout:
			t.Fatalf("the page never logged %q", s)
		}
	}
}

// startChromium opens url in a fresh headless Chromium. grantMedia adds
// the fake capture device and auto-accepts the permission prompt; without
// it the page has no media permission, as a real viewer page has until it
// asks. extra are more command-line switches. The returned stop kills the
// browser's whole process group and waits for it; it also runs at cleanup.
func startChromium(t *testing.T, url string, grantMedia bool, extra ...string) (stop func()) {
	t.Helper()
	bin := chromiumPath(t)
	args := []string{
		"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-dev-shm-usage", "--mute-audio",
		"--autoplay-policy=no-user-gesture-required",
		"--user-data-dir=" + t.TempDir(),
	}
	if grantMedia {
		args = append(args, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
	}
	args = append(args, extra...)
	if verbose() {
		args = append(args, "--enable-logging=stderr", "--v=0", "--vmodule=*mdns*=3,*p2p*=1,*webrtc*=1,*port*=1")
	}
	cmd := exec.Command(bin, append(args, url)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var mu sync.Mutex
	var out strings.Builder
	cmd.Stdout = &lockedWriter{mu: &mu, w: &out}
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start())
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
			if verbose() || t.Failed() {
				n := 4000
				if verbose() {
					n = 1 << 20
				}
				mu.Lock()
				t.Logf("chromium output:\n%s", tail(out.String(), n))
				mu.Unlock()
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func (p *page) wait(t *testing.T) pageResult {
	t.Helper()
	select {
	case r := <-p.results:
		return r
	case <-time.After(45 * time.Second):
		t.Fatal("the viewer page posted no result")
		return pageResult{}
	}
}

// The original deployment's browser viewer page (re-created in
// testdata/viewer.html) answers, in Chromium, a Session that offers VP8
// video and Opus audio, and shows the video with its audio in one stream.
func TestChromiumViewer(t *testing.T) {
	chromiumPath(t)
	p := viewerPage(t)
	robot := robotFor(t, p, rtclink.Config{Video: videoSender(t, 640, 480), Audio: audioSender(t, 1000)})

	startChromium(t, p.base+"/viewer.html?room=realsense&frames=60&media=1", true)
	res := p.wait(t)
	st := robot.Stats()
	t.Logf("page: %s after %d pictures painted, %d decoded (%s) at %dx%d, %d stamps read (median stamp-to-paint %.1f ms), audio %s %d packets; ICE %v, pair %s; %d local / %d remote candidates; tracks %+v",
		res.Why, res.PaintedFrames, res.FramesDecoded, res.VideoCodec, res.VideoWidth, res.VideoHeight, res.StampsRead, res.medianLatencyMs(),
		res.AudioCodec, res.AudioPackets, res.ICEStates, res.Pair, len(res.LocalCandidates), len(res.RemoteCandidates), res.TrackEvents)
	t.Logf("robot: state %s, %s/%s pair, %d frames sent, %d PLIs received", st.State, st.Transport.LocalCandidate, st.Transport.RemoteCandidate, st.VideoOut.FramesSent, st.VideoOut.PLIsReceived)

	assert.Empty(t, res.Errors)
	assert.Equal(t, "frames", res.Why, "the page did not paint 60 pictures")
	assert.GreaterOrEqual(t, res.FramesDecoded, 60)
	assert.Equal(t, 640, res.VideoWidth)
	assert.Equal(t, 480, res.VideoHeight)
	assert.Greater(t, res.StampsRead, 0, "stamps readable in the painted pictures")
	assert.Greater(t, res.AudioPackets, 0, "audio packets received")
	// One stream holds both tracks: the page attaches streams[0] and
	// must get the picture and the sound.
	require.Len(t, res.TrackEvents, 2)
	for _, ev := range res.TrackEvents {
		assert.Equal(t, 1, ev.Streams, "%s track in one stream", ev.Kind)
		assert.Equal(t, res.TrackEvents[0].StreamID, ev.StreamID, "audio and video in the same stream")
	}
	assert.Equal(t, []string{"audio", "video"}, res.StreamKinds, "the attached stream's tracks")
}
