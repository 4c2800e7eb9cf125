// Package lkserver builds livekit-server once into a cache directory and
// runs it on free loopback ports for tests.
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
}

// Start runs a server for t on free loopback ports and stops it when t
// ends. It skips t when the server cannot be built, or fails it when the
// CI environment variable is set.
func Start(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := Build(ctx)
	if err != nil {
		msg := fmt.Sprintf("livekit-server %s cannot be built here, so the LiveKit tests cannot run: %v", Version, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	port, tcp, udp := freeTCP(t), freeTCP(t), freeUDP(t)
	conf := fmt.Sprintf("port: %d\nrtc:\n  tcp_port: %d\n  udp_port: %d\n  use_external_ip: false\n", port, tcp, udp)
	s := &Server{URL: fmt.Sprintf("ws://127.0.0.1:%d", port), done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--dev", "--bind", "127.0.0.1", "--node-ip", "127.0.0.1", "--config-body", conf)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start livekit-server: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("livekit-server output:\n%s", tail(s.output()))
		}
	})
	if err := s.wait(port); err != nil {
		t.Fatalf("livekit-server did not answer: %v\n%s", err, tail(s.output()))
	}
	return s
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

// stop asks the server to leave gracefully, then kills it.
func (s *Server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *Server) output() []byte { return s.out.bytes() }

func freeTCP(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func freeUDP(t testing.TB) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
