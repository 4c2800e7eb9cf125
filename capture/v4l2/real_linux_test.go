//go:build linux

package v4l2

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRealDevices runs the real system calls where a camera exists: it
// lists the nodes and streams a few frames from the first one a Camera
// can use. Everything it does is also covered, through the same code,
// by the scripted fake device.
func TestRealDevices(t *testing.T) {
	paths, _ := filepath.Glob("/dev/video*")
	if len(paths) == 0 {
		t.Skip("no /dev/video* on this machine: the real V4L2 path is not exercised here (the scripted fake device covers the same code)")
	}
	devs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	var path string
	for _, d := range devs {
		t.Logf("%v", d)
		if d.Err == nil && d.Streamable() && path == "" {
			path = d.Path
		}
	}
	if path == "" {
		t.Skip("no node offers a colour format this package streams")
	}
	cam, err := Open(path, Config{})
	if errors.Is(err, ErrBusy) {
		t.Skipf("%s is busy: %v", path, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cam.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	t.Logf("streaming %v from %s", cam.Mode(), path)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 5 {
		f, err := cam.ReadVideo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Validate(); err != nil || f.Width != cam.Mode().Width {
			t.Fatalf("frame %dx%d: %v", f.Width, f.Height, err)
		}
	}
	t.Logf("stats %+v", cam.Stats())
}

// Open and List make the real system calls; on a machine without the
// node they say so.
func TestRealOpenMissing(t *testing.T) {
	_, err := Open("/dev/video-no-such-node", Config{})
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Open of a missing node: %v", err)
	}
	if _, err := Open("/dev/null", Config{}); !errors.Is(err, ErrNotCapture) {
		t.Fatalf("Open of /dev/null: %v, want ErrNotCapture", err)
	}
	if _, err := List(); err != nil {
		t.Fatal(err)
	}
}

// The real device's poll and wake-up, on a FIFO standing in for a video
// node: a timeout, a wake from another goroutine, readiness, and the
// monotonic clock.
func TestRealWaitAndWake(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "node")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	dev, err := hostSystem().open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.close()
	if ev, err := dev.wait(20 * time.Millisecond); ev != evTimeout || err != nil {
		t.Fatalf("wait on a quiet node: %v, %v", ev, err)
	}
	go dev.wake()
	if ev, err := dev.wait(time.Minute); ev != evWoken || err != nil {
		t.Fatalf("wait after wake: %v, %v", ev, err)
	}
	if ev, _ := dev.wait(0); ev != evTimeout {
		t.Fatalf("a wake was seen twice: %v", ev)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if ev, err := dev.wait(time.Minute); ev != evReady || err != nil {
		t.Fatalf("wait with data: %v, %v", ev, err)
	}
	if a, b := dev.now(), dev.now(); a <= 0 || b < a {
		t.Fatalf("monotonic clock reads %v then %v", a, b)
	}
}
