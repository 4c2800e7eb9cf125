package lkserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ErrNoRedis reports that redis-server is not installed.
var ErrNoRedis = errors.New("lkserver: redis-server not found (Debian package redis-server)")

// Redis is a running redis-server that keeps nothing on disk.
type Redis struct {
	// Addr is its host:port on loopback, for Options.Redis.
	Addr string
	dir  string
	cmd  *exec.Cmd
	out  lockedWriter
	done chan struct{}
	once sync.Once
}

// StartRedis runs a redis-server for t and stops it when t ends. It skips
// t when redis-server is not installed, or fails it when the CI
// environment variable is set.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	r, err := RunRedis()
	if errors.Is(err, ErrNoRedis) {
		skipOrFail(t, "two LiveKit nodes share their state through Redis, which is not installed here: "+err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		if t.Failed() {
			t.Logf("redis-server output:\n%s", tail(r.out.bytes()))
		}
	})
	return r
}

// RunRedis starts redis-server on a free loopback port, without
// snapshots or an append-only file, in a temporary directory of its own,
// and returns once it answers PING. Close stops it and removes the
// directory.
func RunRedis() (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRedis, err)
	}
	port, err := freeTCP()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lkserver-redis-")
	if err != nil {
		return nil, err
	}
	r := &Redis{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, done: make(chan struct{})}
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no")
	r.cmd.Dir = dir
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	if err := r.wait(); err != nil {
		r.Close()
		return nil, fmt.Errorf("redis-server did not answer: %w\n%s", err, tail(r.out.bytes()))
	}
	return r, nil
}

// wait sends PING until redis answers PONG.
func (r *Redis) wait() error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return errors.New("it exited")
		default:
		}
		if ping(r.Addr) == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("no answer within 10 s")
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("answer %q", line)
	}
	return nil
}

// Close stops redis-server and removes its directory. It is safe to call
// more than once.
func (r *Redis) Close() error {
	var err error
	r.once.Do(func() {
		stop(r.cmd, r.done)
		err = os.RemoveAll(r.dir)
	})
	return err
}
