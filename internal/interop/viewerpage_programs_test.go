package interop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/internal/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildPrograms builds example programs of the module (by their
// directory under examples/) into a test directory and returns their
// paths by name.
func buildPrograms(t *testing.T, names ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./examples/"+n)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	bins := map[string]string{}
	for _, n := range names {
		bins[n] = filepath.Join(dir, n)
	}
	return bins
}

// program is an example program running as a user runs it.
type program struct {
	name string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
}

// runProgram starts bin with args; it is stopped with SIGTERM (then
// SIGKILL) when the test ends.
func runProgram(t *testing.T, bin string, args ...string) *program {
	t.Helper()
	p := &program{name: filepath.Base(bin), cmd: exec.Command(bin, args...), out: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() || verbose() {
			t.Logf("%s output:\n%s", p.name, tail(p.out.String(), 6000))
		}
	})
	return p
}

// waitOutput waits until the program's output matches re, and returns
// the first match's groups.
func (p *program) waitOutput(t *testing.T, d time.Duration, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for {
		if m := rx.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited without printing %q:\n%s", p.name, re, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q in %v:\n%s", p.name, re, d, tail(p.out.String(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signalServerProgram runs examples/signal-server on a free loopback
// port and returns its http:// base URL.
func signalServerProgram(t *testing.T, bin string, args ...string) (*program, string) {
	t.Helper()
	p := runProgram(t, bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	m := p.waitOutput(t, 20*time.Second, `signal-server: listening" addr=(\S+)`)
	return p, "http://" + m[1]
}

// The programs as a deployment runs them: examples/signal-server serving
// the page and minting TURN credentials for turnsrv's secret,
// examples/sender taking its ICE servers from the server (-ice-from) and
// relaying only, and the page in Chromium, relay only too. The call goes
// through the relay; the page's teleop commands reach the sender, which
// logs them, and their echoes come back.
func TestProgramsViewerPage(t *testing.T) {
	chromiumPath(t)
	bins := buildPrograms(t, "signal-server", "sender")
	turnURL := relayServer(t)
	_, base := signalServerProgram(t, bins["signal-server"], "-turn-secret", turnSecret, "-turn-url", turnURL, "-turn-ttl", "1h")

	resp, err := http.Get(base + "/ice-servers")
	require.NoError(t, err)
	var ice struct {
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"iceServers"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ice))
	resp.Body.Close()
	require.Len(t, ice.ICEServers, 1)
	assert.Equal(t, []string{turnURL}, ice.ICEServers[0].URLs)
	assert.Regexp(t, `^\d+:avlink$`, ice.ICEServers[0].Username, "a coturn-REST username")

	sender := runProgram(t, bins["sender"], "-signal", wsURL(base), "-room", "realsense",
		"-ice-from", base+"/ice-servers", "-relay-only")
	sender.waitOutput(t, 20*time.Second, `ICE servers fetched" servers=1`)

	b := openBrowser(t, base+"/?room=realsense&relay=1&stale=3000") // the lockout has its own tests
	b.live(40 * time.Second)
	st := b.waitState(15*time.Second, "stamps and the selected pair", func(s viewerState) bool {
		return s.StampsRead > 5 && s.Pair != nil && s.Teleop.Open
	})
	assert.Equal(t, 640, st.FrameWidth)
	assert.Equal(t, 480, st.FrameHeight)
	assert.Equal(t, "relay", st.Pair.Local)
	assert.Equal(t, "relay", st.Pair.Remote, "the sender relays only too")

	b.key("keyDown", "ArrowLeft", "ArrowLeft", 37)
	sender.waitOutput(t, 10*time.Second, `msg=teleop type=drive seq=\d+ linear=0 angular=0\.5`)
	b.key("keyUp", "ArrowLeft", "ArrowLeft", 37)
	sender.waitOutput(t, 10*time.Second, `msg=teleop type=stop`)
	st = b.waitState(10*time.Second, "echoes", func(s viewerState) bool { return s.Teleop.Echoes > 0 && s.Teleop.RTTMs != nil })
	t.Logf("page: %dx%d, %d stamps, pair %+v, teleop round trip %.2f ms over %d echoes",
		st.FrameWidth, st.FrameHeight, st.StampsRead, *st.Pair, *st.Teleop.RTTMs, st.Teleop.Echoes)
}

// originalPageVia serves the original deployment's browser viewer page
// (re-created in testdata/viewer.html) with its result endpoints, and
// passes every other request — its WebSocket on "/" — to the signaling
// server at target, so the page talks to that server as to its own.
func originalPageVia(t *testing.T, target string) *page {
	t.Helper()
	html, err := os.ReadFile("testdata/viewer.html")
	require.NoError(t, err)
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &page{results: make(chan pageResult, 4), logs: make(chan string, 256)}
	mux := http.NewServeMux()
	mux.Handle("/", httputil.NewSingleHostReverseProxy(u))
	mux.HandleFunc("/viewer.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(html)
	})
	mux.HandleFunc("/stamp.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(stamp.JS())
	})
	mux.HandleFunc("/log", func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		select {
		case p.logs <- string(b):
		default:
		}
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		var res pageResult
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&res); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case p.results <- res:
		default:
		}
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	p.base = hs.URL
	return p
}

// The original deployment's browser page flow against our programs:
// examples/sender offers through examples/signal-server, and the page
// answers and shows the video with its audio in one stream.
func TestProgramsOriginalViewerPage(t *testing.T) {
	chromiumPath(t)
	bins := buildPrograms(t, "signal-server", "sender")
	_, base := signalServerProgram(t, bins["signal-server"])
	runProgram(t, bins["sender"], "-signal", wsURL(base), "-room", "realsense")
	p := originalPageVia(t, base)
	startChromium(t, p.base+"/viewer.html?room=realsense&frames=60&media=1", true)
	assertPicture(t, p.wait(t))
}

// The original deployment's Python aiortc robot (testdata/sender.py)
// into our page, served by examples/signal-server: the robot offers once,
// to the room, with every candidate in its SDP and one RTP
// header-extension id given to two extensions, which the page repairs
// before Chromium would refuse the offer.
func TestProgramsAiortcRobotIntoViewerPage(t *testing.T) {
	chromiumPath(t)
	python := aiortcPython(t)
	bins := buildPrograms(t, "signal-server")
	_, base := signalServerProgram(t, bins["signal-server"])
	b := openBrowser(t, base+"/?room=realsense")
	// The robot offers once, right after joining: the page must be there.
	b.waitState(20*time.Second, "joined", func(s viewerState) bool { return s.SelfID != "" })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	py := runScript(t, ctx, python, "sender.py", wsURL(base), "realsense", "12", "440", "44100", "882")
	b.live(30 * time.Second)
	st := b.framesGrow(20*time.Second, 30)
	st = b.waitState(10*time.Second, "stamps and audio", func(s viewerState) bool {
		return s.StampsRead > 5 && s.AudioPackets > 0
	})
	t.Logf("page: %s %dx%d, %d frames, %d stamps, %.2f Mbit/s, audio %s %d packets",
		st.VideoCodec, st.FrameWidth, st.FrameHeight, st.FramesDecoded, st.StampsRead, st.Bitrate/1e6, st.AudioCodec, st.AudioPackets)
	assert.Equal(t, "VP8", st.VideoCodec)
	assert.Equal(t, 640, st.FrameWidth)
	assert.Equal(t, 480, st.FrameHeight)
	repaired := false
	for _, e := range st.Events {
		repaired = repaired || strings.Contains(e, "dropped a clashing RTP header extension")
	}
	if offer := py.find("offer"); assert.NotNil(t, offer) && extmapClash(offer.str("sdp")) != "none" {
		assert.True(t, repaired, "the offer had a clash the page did not repair")
	} else {
		t.Log("this aiortc gives each header extension its own id: the page's repair was not needed")
	}
}
