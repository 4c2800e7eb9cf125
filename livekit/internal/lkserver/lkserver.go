// Package lkserver builds livekit-server once into a cache directory and
// runs it on free loopback ports for tests and benchmarks: one node, or
// several nodes sharing a Redis it also runs.
package lkserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Version is the livekit-server release the tests run against. Later
// releases replace pion's dtls with a fork the module proxy does not
// serve.
const Version = "v1.9.11"

// Dev mode's API key and secret.
const (
	APIKey    = "devkey"
	APISecret = "secret"
)

// Path returns where the server binary is cached:
// $XDG_CACHE_HOME/avlink/livekit-server-VERSION/livekit-server, or the
// same under ~/.cache.
func Path() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "avlink", "livekit-server-"+Version, "livekit-server"), nil
}

// Build returns the cached binary, building it first (about two minutes)
// from a throwaway module, so that the server's dependencies stay out of
// ours.
func Build(ctx context.Context) (string, error) {
	bin, err := Path()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "livekit-server-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	part := filepath.Join(tmp, "livekit-server")
	for _, args := range [][]string{
		{"mod", "init", "livekit-server-build"},
		{"get", "github.com/livekit/livekit-server/cmd/server@" + Version},
		{"build", "-o", part, "github.com/livekit/livekit-server/cmd/server"},
	} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = tmp
		// The throwaway module must not inherit a caller's workspace.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(out))
		}
	}
	// Rename is atomic, so concurrent builders never see half a binary.
	if err := os.Rename(part, bin); err != nil {
		return "", err
	}
	return bin, nil
}

func tail(b []byte) []byte {
	if len(b) > 4000 {
		return b[len(b)-4000:]
	}
	return b
}

// Server is a running livekit-server.
type Server struct {
	// URL is its signaling address, ws://127.0.0.1:PORT.
	URL  string
	cmd  *exec.Cmd
	out  lockedWriter
	done chan struct{}
	once sync.Once
}

// Options configures a server beyond its free loopback ports.
type Options struct {
	// Redis is the host:port of a Redis that the server shares with
	// other nodes (rooms and participants are then found across nodes).
	// Empty runs a single node with its state in memory.
	Redis string
}

// Start runs a single-node server for t on free loopback ports and stops
// it when t ends. It skips t when the server cannot be built, or fails it
// when the CI environment variable is set.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith is Start with opt, such as a shared Redis for a second node.
func StartWith(t testing.TB, opt Options) *Server {
	t.Helper()
	s, err := Run(Binary(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("livekit-server %s output:\n%s", s.URL, tail(s.Output()))
		}
	})
	return s
}

// Binary returns the server binary, building it first if need be. It
// skips t when the server cannot be built, or fails it when the CI
// environment variable is set.
func Binary(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := Build(ctx)
	if err != nil {
		skipOrFail(t, fmt.Sprintf("livekit-server %s cannot be built here, so the LiveKit tests cannot run: %v", Version, err))
	}
	return bin
}

// skipOrFail skips t, or fails it when the CI environment variable is
// set: CI must run every test.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Run starts the server binary bin on free loopback ports in dev mode
// (API key APIKey, secret APISecret) and returns once it answers. Close
// stops it.
func Run(bin string, opt Options) (*Server, error) {
	port, err := freeTCP()
	if err != nil {
		return nil, err
	}
	tcp, err := freeTCP()
	if err != nil {
		return nil, err
	}
	udp, err := freeUDP()
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf("port: %d\nrtc:\n  tcp_port: %d\n  udp_port: %d\n  use_external_ip: false\n", port, tcp, udp)
	if opt.Redis != "" {
		conf += fmt.Sprintf("redis:\n  address: %s\n", opt.Redis)
	}
	s := &Server{URL: fmt.Sprintf("ws://127.0.0.1:%d", port), done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--dev", "--bind", "127.0.0.1", "--node-ip", "127.0.0.1", "--config-body", conf)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start livekit-server: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.wait(port); err != nil {
		s.Close()
		return nil, fmt.Errorf("livekit-server did not answer: %w\n%s", err, tail(s.Output()))
	}
	return s, nil
}

// wait polls the server's health endpoint until it answers.
func (s *Server) wait(port int) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("it exited")
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("no answer within 30 s")
}

// Close asks the server to leave gracefully, then kills it. It is safe
// to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() { stop(s.cmd, s.done) })
	return nil
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Output is what the server has logged so far.
func (s *Server) Output() []byte { return s.out.bytes() }

// stop sends SIGTERM, then SIGKILL after ten seconds, and waits for the
// process to end.
func stop(cmd *exec.Cmd, done <-chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// freeTCP and freeUDP return a loopback port free at the time of the
// call.
func freeTCP() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freeUDP() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
