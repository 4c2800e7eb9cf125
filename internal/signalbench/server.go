package signalbench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kind names a server under test.
type Kind string

// The servers the benchmark knows.
const (
	// KindGo is examples/signal-server, built with go build.
	KindGo Kind = "go"
	// KindNode is node/server.js on the npm package ws.
	KindNode Kind = "node"
)

//go:embed node/server.js
var nodeServerJS []byte

//go:embed node/package.json
var nodePackageJSON []byte

// binaries holds what Prepare built or installed, in a temporary
// directory removed by Cleanup.
type binaries struct {
	dir        string
	goServer   string // path of the built signal-server
	natsServer string // path of the built nats-server, for multi-server runs
	nodeDir    string // directory with server.js and node_modules
}

// prepare builds the Go server from repo and installs the Node server's
// dependencies with npm, each only when kinds asks for it.
func prepare(ctx context.Context, repo, goServer string, kinds []Kind) (*binaries, error) {
	dir, err := os.MkdirTemp("", "signalbench-")
	if err != nil {
		return nil, err
	}
	b := &binaries{dir: dir}
	for _, k := range kinds {
		switch k {
		case KindGo:
			if goServer != "" {
				b.goServer = goServer
				continue
			}
			b.goServer = filepath.Join(dir, "signal-server")
			cmd := exec.CommandContext(ctx, "go", "build", "-o", b.goServer, "./examples/signal-server")
			cmd.Dir = repo
			if out, err := cmd.CombinedOutput(); err != nil {
				b.cleanup()
				return nil, fmt.Errorf("%w: go build: %w: %s", ErrServerStart, err, out)
			}
		case KindNode:
			b.nodeDir = filepath.Join(dir, "node")
			if err := os.Mkdir(b.nodeDir, 0o755); err != nil {
				b.cleanup()
				return nil, err
			}
			for name, data := range map[string][]byte{"server.js": nodeServerJS, "package.json": nodePackageJSON} {
				if err := os.WriteFile(filepath.Join(b.nodeDir, name), data, 0o644); err != nil {
					b.cleanup()
					return nil, err
				}
			}
			cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
			cmd.Dir = b.nodeDir
			if out, err := cmd.CombinedOutput(); err != nil {
				b.cleanup()
				return nil, fmt.Errorf("%w: npm install ws: %w: %s", ErrServerStart, err, out)
			}
		default:
			b.cleanup()
			return nil, fmt.Errorf("%w: unknown server %q", ErrConfig, k)
		}
	}
	return b, nil
}

func (b *binaries) cleanup() { os.RemoveAll(b.dir) }

// serverProc is one running server under test.
type serverProc struct {
	kind    Kind
	client  *http.Client // for readiness and /metrics, closed with the server
	cmd     *exec.Cmd
	pid     int
	addr    string // 127.0.0.1:port
	done    chan struct{}
	waitErr error
	log     *os.File
}

// wsURL is where clients dial.
func (s *serverProc) wsURL() string { return "ws://" + s.addr + "/" }

// startServer starts a server of kind k on a free loopback port. peers
// is the largest room the run will make; extra are more flags for the Go
// server.
func startServer(ctx context.Context, b *binaries, k Kind, peers int, extra ...string) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var cmd *exec.Cmd
	switch k {
	case KindGo:
		cmd = exec.Command(b.goServer, "-addr", addr,
			"-no-rate-limit", // the load sends far more than a browser would
			"-max-peers-per-room", strconv.Itoa(max(peers, 64)),
			"-max-rooms", strconv.Itoa(max(peers, 10000)))
		cmd.Args = append(cmd.Args, extra...)
	case KindNode:
		cmd = exec.Command("node", "server.js")
		cmd.Dir = b.nodeDir
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	default:
		return nil, fmt.Errorf("%w: unknown server %q", ErrConfig, k)
	}
	logf, err := os.CreateTemp(b.dir, string(k)+"-*.log")
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrServerStart, k, err)
	}
	s := newServerProc(k, cmd, addr, logf)
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// newServerProc follows cmd, started, until it exits.
func newServerProc(k Kind, cmd *exec.Cmd, addr string, logf *os.File) *serverProc {
	s := &serverProc{kind: k, cmd: cmd, pid: cmd.Process.Pid, addr: addr, done: make(chan struct{}), log: logf,
		client: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}}
	go func() { s.waitErr = cmd.Wait(); close(s.done) }()
	return s
}

func (s *serverProc) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("%w: %s exited: %v (log %s)", ErrServerStart, s.kind, s.waitErr, s.log.Name())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := s.client.Get("http://" + s.addr + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%w: %s did not answer on %s within %v", ErrServerStart, s.kind, s.addr, limit)
}

// stop ends the server with SIGTERM, then SIGKILL after 5 s.
func (s *serverProc) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.client.CloseIdleConnections()
	s.log.Close()
}

// alive reports whether the server process is still running.
func (s *serverProc) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// goMetrics reads the Go server's /metrics.
func (s *serverProc) goMetrics() (map[string]float64, error) {
	if s.kind != KindGo {
		return nil, nil
	}
	resp, err := s.client.Get("http://" + s.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseMetrics(body), nil
}

// parseMetrics reads the unlabelled samples of a Prometheus text
// exposition, summing the samples of labelled series under their name.
func parseMetrics(text []byte) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			// Labels may hold spaces: the value follows the closing brace.
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, rest = line[:i], line[j+1:]
		}
		val, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// raiseFileLimit lifts this process's open-file limit to its hard limit
// (or higher, when allowed), so that the load's connections fit; the
// servers started afterwards inherit it.
func raiseFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			return want, nil
		}
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < want {
		return lim.Cur, errors.New("signalbench: open-file limit below what the load needs")
	}
	return lim.Cur, nil
}
