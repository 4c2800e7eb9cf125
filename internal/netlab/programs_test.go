package netlab_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/netlab"
	"github.com/avlink/avlink/internal/syncbuf"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The example programs, each built once for the package's tests, in a
// directory removed at the end.
var built struct {
	mu     sync.Mutex
	dir    string
	groups map[string]*buildGroup // by program name
}

// buildGroup is programs built by one go build.
type buildGroup struct {
	once sync.Once
	pkgs []string
	err  error
}

func init() {
	built.groups = map[string]*buildGroup{}
	for _, g := range [][]string{
		{"sender", "receiver", "signal-server", "turn-server"},
		// Built only for the tests that run it.
		{"realsense-sender"},
	} {
		bg := &buildGroup{}
		for _, name := range g {
			bg.pkgs = append(bg.pkgs, "./examples/"+name)
			built.groups[name] = bg
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// program returns the path of the built example program name.
func program(t *testing.T, name string) string {
	t.Helper()
	built.mu.Lock()
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "netlab-programs-")
		if err != nil {
			built.mu.Unlock()
			t.Fatal(err)
		}
		built.dir = dir
	}
	dir, g := built.dir, built.groups[name]
	built.mu.Unlock()
	require.NotNil(t, g, "no example program %s", name)
	g.once.Do(func() {
		cmd := exec.Command("go", append([]string{"build", "-o", dir + string(filepath.Separator)}, g.pkgs...)...)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			g.err = fmt.Errorf("go build %s: %w: %s", strings.Join(g.pkgs, " "), err, out)
		}
	})
	require.NoError(t, g.err)
	return filepath.Join(dir, name)
}

const (
	room     = "lab"
	turnUser = "robot"
	turnPass = "s3cret"
)

var (
	signalAddr = netip.AddrPortFrom(netlab.PublicIP, 3000)
	// The same ICE servers in every case, as a deployment gives them:
	// STUN, and TURN over UDP, TCP and TLS (on 443, which firewalls that
	// block everything else tend to leave open).
	iceURLs = []string{
		"stun:" + netlab.PublicIP.String() + ":3478",
		"turn:" + netlab.PublicIP.String() + ":3478?transport=udp",
		"turn:" + netlab.PublicIP.String() + ":3478?transport=tcp",
		"turns:" + netlab.PublicIP.String() + ":443?transport=tcp",
	}
)

// world is a lab with examples/signal-server and examples/turn-server
// running in its public namespace.
type world struct {
	lab  *netlab.Lab
	cert string // the TURN server's self-signed certificate, trusted by the peers
	turn *proc
}

func newWorld(t *testing.T, a, b netlab.NAT) *world {
	t.Helper()
	l := newLab(t, a, b)
	w := &world{lab: l}
	// The routers are the NATs asked for.
	for i, lan := range l.LANs {
		m, err := lan.ProbeMapping(5 * time.Second)
		require.NoError(t, err, "LAN %d", i)
		require.Equal(t, lan.NAT == netlab.Cone, m.EndpointIndependent(), "LAN %d, a %v NAT, mapped one socket to %v", i, lan.NAT, m)
	}
	dir := t.TempDir()
	var key string
	w.cert, key = selfSigned(t, dir, netlab.PublicIP)
	start(t, l.Public, "signal-server", program(t, "signal-server"), nil, "-addr", signalAddr.String())
	w.turn = start(t, l.Public, "turn-server", program(t, "turn-server"), nil,
		"-listening-ip", netlab.PublicIP.String(), "-realm", "avlink.test", "-user", turnUser+":"+turnPass,
		// The peers' public addresses are in a documentation range
		// that the server refuses as private unless told otherwise.
		"-allowed-peer-ip", netlab.PublicPrefix.String(),
		"-tls-listening-port", "443", "-cert", w.cert, "-pkey", key)
	for _, port := range []uint16{signalAddr.Port(), 3478, 443} {
		waitTCP(t, l.Public, netip.AddrPortFrom(netlab.PublicIP, port))
	}
	return w
}

// waitTCP waits up to 10 s for something to listen at a in ns.
func waitTCP(t *testing.T, ns *netlab.NS, a netip.AddrPort) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := ns.Do(func() error {
			c, err := net.DialTimeout("tcp", a.String(), time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens at %v in %s: %v", a, ns.Name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// selfSigned writes a certificate for ip and its key into dir.
func selfSigned(t *testing.T, dir string, ip netip.Addr) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: ip.String()},
		IPAddresses:           []net.IP{ip.AsSlice()},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	cert, key = filepath.Join(dir, "turn.crt"), filepath.Join(dir, "turn.key")
	require.NoError(t, os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return cert, key
}

// proc is a program running in a namespace, its output kept and its
// stderr lines timed.
type proc struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	out     syncbuf.Buffer
	exited  chan struct{}
	err     error

	mu    sync.Mutex
	lines []timedLine
	more  chan struct{} // closed and replaced when a line arrives
}

type timedLine struct {
	at   time.Time
	text string
}

// start starts a program in ns and stops it when t ends, logging its
// output if t failed.
func start(t *testing.T, ns *netlab.NS, name, path string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: ns.Command(path, args...), exited: make(chan struct{}), more: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = &p.out
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	p.started = time.Now()
	require.NoError(t, p.cmd.Start(), "start %s", name)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			now, line := time.Now(), sc.Text()
			_, _ = p.out.Write([]byte(line + "\n"))
			p.mu.Lock()
			p.lines = append(p.lines, timedLine{now, line})
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(5 * time.Second)
		if t.Failed() {
			t.Logf("--- %s output:\n%s", name, tail(p.out.String(), 200))
		}
	})
	return p
}

// waitLine waits up to d for a stderr line containing s and returns when
// it was read.
func (p *proc) waitLine(t *testing.T, s string, d time.Duration) time.Time {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for i := 0; ; {
		p.mu.Lock()
		for ; i < len(p.lines); i++ {
			if strings.Contains(p.lines[i].text, s) {
				at := p.lines[i].at
				p.mu.Unlock()
				return at
			}
		}
		more := p.more
		p.mu.Unlock()
		select {
		case <-more:
		case <-p.exited:
			t.Fatalf("%s exited (%v) before saying %q", p.name, p.err, s)
		case <-deadline.C:
			t.Fatalf("%s did not say %q within %v", p.name, s, d)
		}
	}
}

// saw reports whether a stderr line contained s.
func (p *proc) saw(s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l.text, s) {
			return true
		}
	}
	return false
}

// stop sends SIGTERM and waits up to d for the program to exit, then
// makes it exit with a dump of its goroutines. It reports whether it
// exited by itself.
func (p *proc) stop(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		// A Go program prints where every goroutine is on SIGQUIT.
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.exited:
		case <-time.After(2 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		return false
	}
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(len(all)-lines, 0):], "\n")
}

// stats is the part of examples/internal/cli's -stats-json file the
// tests read.
type stats struct {
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended"`
	Connected  time.Time `json:"connected"`
	FirstFrame time.Time `json:"first_frame"`
	LastFrame  time.Time `json:"last_frame"`
	State      string    `json:"state"`
	Pair       struct {
		Local          string `json:"local"`
		Remote         string `json:"remote"`
		RelayTransport string `json:"relay_transport"`
	} `json:"pair"`
	RTTMillis  float64 `json:"rtt_ms"`
	BitrateOut float64 `json:"bitrate_out"`
	BitrateIn  float64 `json:"bitrate_in"`
	VideoIn    struct {
		PacketsReceived int64   `json:"packets_received"`
		PacketsLost     int64   `json:"packets_lost"`
		FramesReceived  int64   `json:"frames_received"`
		FramesDecoded   int64   `json:"frames_decoded"`
		FramesGivenUp   int64   `json:"frames_given_up"`
		FPS             float64 `json:"fps"`
	} `json:"video_in"`
	AudioIn struct {
		PacketsReceived int64 `json:"packets_received"`
		FramesDecoded   int64 `json:"frames_decoded"`
	} `json:"audio_in"`
	VideoOut struct {
		FramesSent       int64   `json:"frames_sent"`
		FPS              float64 `json:"fps"`
		TargetBitrate    int     `json:"target_bitrate"`
		EstimatedBitrate int     `json:"estimated_bitrate"`
		FramesDropped    int64   `json:"frames_dropped"`
		NACKsReceived    int64   `json:"nacks_received"`
		PacketsResent    int64   `json:"packets_resent"`
		PLIsReceived     int64   `json:"plis_received"`
		KeyframesOnPLI   int64   `json:"keyframes_on_pli"`
	} `json:"video_out"`
	AudioOut struct {
		PacketsSent int64 `json:"packets_sent"`
	} `json:"audio_out"`
	LongestGapMillis float64 `json:"longest_gap_ms"`
	Gaps             []struct {
		Start  time.Time `json:"start"`
		Millis float64   `json:"ms"`
	} `json:"gaps"`
	Seconds []second `json:"seconds"`
}

type second struct {
	T        int   `json:"t"`
	BytesOut int64 `json:"bytes_out"`
	BytesIn  int64 `json:"bytes_in"`
	Frames   int64 `json:"frames"`
}

func (s *stats) relayed() bool { return s.Pair.Local == "relay" || s.Pair.Remote == "relay" }

func (s *stats) pair() string {
	p := s.Pair.Local + "/" + s.Pair.Remote
	if s.Pair.RelayTransport != "" {
		p += " (relay over " + s.Pair.RelayTransport + ")"
	}
	return p
}

// between sums what the program counted in the whole seconds that lie
// within [from, to): bytes sent and received and frames shown, and how
// many seconds that was.
func (s *stats) between(from, to time.Time) (out, in, frames int64, secs int) {
	for _, sec := range s.Seconds {
		at := s.Started.Add(time.Duration(sec.T) * time.Second)
		if !at.Before(from) && !at.Add(time.Second).After(to) {
			out, in, frames, secs = out+sec.BytesOut, in+sec.BytesIn, frames+sec.Frames, secs+1
		}
	}
	return out, in, frames, secs
}

// seconds returns the seconds that begin within [from, to).
func (s *stats) seconds(from, to time.Time) []second {
	var out []second
	for _, sec := range s.Seconds {
		if at := s.Started.Add(time.Duration(sec.T) * time.Second); !at.Before(from) && at.Before(to) {
			out = append(out, sec)
		}
	}
	return out
}

// windows returns frames shown per second in each whole five-second
// window within [from, to).
func (s *stats) windows(from, to time.Time) []float64 {
	var fps []float64
	for w := from; !w.Add(5 * time.Second).After(to); w = w.Add(5 * time.Second) {
		_, _, frames, secs := s.between(w, w.Add(5*time.Second))
		if secs > 0 {
			fps = append(fps, float64(frames)/float64(secs))
		}
	}
	return fps
}

// longestPause is the longest pause in the video within [from, to): of
// the gaps of 100 ms or more that began in it, and the one still open at
// the end. It is zero when there was none of 100 ms or more.
func (s *stats) longestPause(from, to time.Time) time.Duration {
	var longest time.Duration
	for _, g := range s.Gaps {
		if !g.Start.Before(from) && g.Start.Before(to) {
			longest = max(longest, time.Duration(g.Millis*float64(time.Millisecond)))
		}
	}
	last := s.LastFrame
	if last.Before(from) {
		last = from
	}
	if last.Before(to) {
		if open := to.Sub(last); open >= 100*time.Millisecond {
			longest = max(longest, open)
		}
	}
	return longest
}

func readStats(t *testing.T, path string) *stats {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err, "-stats-json file")
	var s stats
	require.NoError(t, json.Unmarshal(data, &s), "%s", data)
	return &s
}

// callOpts are the variations of a call.
type callOpts struct {
	// robot is the program run as the robot: "sender" (examples/sender,
	// the default, with its test pattern and tone) or "realsense-sender"
	// (with its test pattern, no microphone and no speaker).
	robot string
	// senderArgs are added to the robot's command line.
	senderArgs []string
	// during runs once the sender says it is connected; the call ends
	// when it returns. Nil holds the call for three seconds.
	during func(connected time.Time)
}

// call is one run of the robot program in LAN 0 to examples/receiver in
// LAN 1 (the viewer).
type call struct {
	senderStart      time.Time // when the sender's process was started
	connected        time.Time // when the sender said its peer connection was connected
	sender, receiver *stats
}

// joinToFrame is the time from the sender joining the room to the
// receiver's first decoded frame, startToFrame from the sender's start.
func (c *call) joinToFrame() time.Duration  { return c.receiver.FirstFrame.Sub(c.sender.Started) }
func (c *call) startToFrame() time.Duration { return c.receiver.FirstFrame.Sub(c.senderStart) }

func (w *world) call(t *testing.T, o callOpts) *call {
	t.Helper()
	dir := t.TempDir()
	common := []string{"-signal", "ws://" + signalAddr.String(), "-room", room, "-ice-user", turnUser, "-ice-pass", turnPass}
	for _, u := range iceURLs {
		common = append(common, "-ice", u)
	}
	// The peers trust the TURN server's self-signed certificate for
	// turns: URLs (Go reads SSL_CERT_FILE for its roots).
	env := []string{"SSL_CERT_FILE=" + w.cert}
	rxJSON, txJSON := filepath.Join(dir, "receiver.json"), filepath.Join(dir, "sender.json")
	rx := start(t, w.lab.LANs[1].Host, "receiver", program(t, "receiver"), env, append(common, "-stats-json", rxJSON)...)
	rx.waitLine(t, "connected to the signaling server", 10*time.Second)
	robot, robotArgs := "sender", []string{"-size", "640x480"}
	if o.robot == "realsense-sender" {
		robot, robotArgs = o.robot, []string{"-camera", "testpattern", "-size", "640x480", "-mic", "none", "-speaker", "none"}
	}
	tx := start(t, w.lab.LANs[0].Host, robot, program(t, robot), env,
		append(append(append(common, "-stats-json", txJSON), robotArgs...), o.senderArgs...)...)
	c := &call{senderStart: tx.started}
	c.connected = tx.waitLine(t, "state=connected", 30*time.Second)
	if o.during != nil {
		o.during(c.connected)
	} else {
		time.Sleep(3 * time.Second)
	}
	var wg sync.WaitGroup
	for _, p := range []*proc{rx, tx} {
		wg.Go(func() {
			if !p.stop(10 * time.Second) {
				t.Errorf("%s did not exit within 10 s of SIGTERM", p.name)
			}
		})
	}
	wg.Wait()
	c.sender, c.receiver = readStats(t, txJSON), readStats(t, rxJSON)
	return c
}

// grainY4M writes secs seconds of w×h video at fps to a Y4M file in dir:
// a gradient and a moving box under fresh grain in every frame, which an
// encoder can spend any bitrate on (a test pattern alone needs far less
// than a megabit), yet smooth over when the bitrate is low.
func grainY4M(t *testing.T, dir string, w, h, fps, secs, grain int) string {
	t.Helper()
	path := filepath.Join(dir, "grain.y4m")
	f, err := os.Create(path)
	require.NoError(t, err)
	bw := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", w, h, fps)
	frame := make([]byte, w*h*3/2)
	rnd := uint64(1)
	for n := range fps * secs {
		box := n * 4 % w
		for y := range h {
			for x := range w {
				v := 40 + (x+y)*160/(w+h)
				if x >= box && x < box+w/5 && y >= h/3 && y < h*2/3 {
					v = 220
				}
				rnd ^= rnd << 13
				rnd ^= rnd >> 7
				rnd ^= rnd << 17
				frame[y*w+x] = byte(v + int(rnd%uint64(2*grain+1)) - grain)
			}
		}
		c := frame[w*h:]
		for i := range c {
			c[i] = byte(128 + i%(w/2)/8)
		}
		bw.WriteString("FRAME\n")
		bw.Write(frame)
	}
	require.NoError(t, bw.Flush())
	require.NoError(t, f.Close())
	return path
}
