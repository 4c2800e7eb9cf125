package v4l2

import (
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The scripted fake device: a stand-in for the kernel and a camera's
// driver behind the system seam, speaking the same V4L2 structs and
// request numbers and keeping the rules a driver enforces (one owner of
// the buffer queue, no S_FMT while buffers exist, QBUF only of a buffer
// the caller holds), so the Camera's own code runs exactly as it does on
// a real node. Frames arrive when the test says so (step), or on a real
// ticker for benchmarks (interval).

// fakeSystem holds fake devices by path.
type fakeSystem struct {
	devs    map[string]*fakeDevice
	paths   []string
	openErr map[string]error
}

func newFakeSystem(devs ...*fakeDevice) *fakeSystem {
	s := &fakeSystem{devs: map[string]*fakeDevice{}, openErr: map[string]error{}}
	for _, d := range devs {
		s.devs[d.path] = d
		s.paths = append(s.paths, d.path)
	}
	return s
}

func (s *fakeSystem) nodes() ([]string, error) { return slices.Clone(s.paths), nil }

func (s *fakeSystem) open(path string) (device, error) {
	if err := s.openErr[path]; err != nil {
		return nil, err
	}
	d, ok := s.devs[path]
	if !ok {
		return nil, syscall.ENOENT
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gone {
		return nil, syscall.ENODEV
	}
	d.openFiles++
	return &fakeFile{d: d, wakeC: make(chan struct{}, 1)}, nil
}

type fakeFormat struct {
	fourcc FourCC
	desc   string
	sizes  []fakeSize
	// stepwise, when set, replaces sizes: any size in the range, at
	// rates (a continuous interval range from rates[0] down to rates[1]).
	stepwise *SizeRange
	rates    []int
}

type fakeSize struct {
	w, h int
	fps  []int
}

// fakeStep is one scripted event, consumed by the next wait.
type fakeStep struct {
	kind  string // "deliver", "flagged", "short", "garbage", "stall", "unplug", "sync"
	n     int
	bytes []byte // "garbage": the frame's bytes
}

type fakeBuf struct {
	mem       []byte
	queued    bool
	done      bool
	mapped    int
	bytesused uint32
	flags     uint32
	seq       uint32
	ts        time.Duration
	filled    bool
}

// fakeDevice is one camera node and its driver.
type fakeDevice struct {
	path, card, driver, bus string
	caps                    uint32 // device caps; 0 means video capture with streaming
	formats                 []fakeFormat
	pad                     int                       // bytes of padding after each row of uncompressed formats
	fail                    map[uintptr]syscall.Errno // requests that fail
	maxBuffers              int                       // 0: as many as asked
	noParm                  bool                      // no S_PARM: the driver keeps its own rate
	forceSize               *[2]int                   // S_FMT sets this size whatever is asked
	lag                     time.Duration             // how old a frame is when the reader's clock is read
	stripDHT                bool                      // MJPEG frames without Huffman tables
	static                  bool                      // fill each buffer once (benchmarks)
	interval                time.Duration             // > 0: a frame every interval, on a real ticker
	picture                 func(seq uint32, f FourCC, w, h, stride int) []byte

	script chan fakeStep

	mu         sync.Mutex
	owner      *fakeFile
	cur        v4l2PixFormat
	ival       v4l2Fract
	bufs       []*fakeBuf
	doneList   []int
	streaming  bool
	seq        uint32
	mono       time.Duration
	gone       bool
	openFiles  int
	violations []string
	ticker     *time.Ticker
	frames     int // frames filled
}

func (d *fakeDevice) violate(format string, args ...any) {
	d.violations = append(d.violations, fmt.Sprintf(format, args...))
}

// check fails t if the camera broke a driver rule or left anything held.
func (d *fakeDevice) checkReleased(t testing.TB) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.violations) > 0 {
		t.Errorf("%s: driver rules broken: %v", d.path, d.violations)
	}
	if d.openFiles != 0 {
		t.Errorf("%s: %d files still open", d.path, d.openFiles)
	}
	for i, b := range d.bufs {
		if b.mapped != 0 {
			t.Errorf("%s: buffer %d still mapped %d times", d.path, i, b.mapped)
		}
	}
	if d.streaming {
		t.Errorf("%s: still streaming", d.path)
	}
}

// step hands one scripted event to the capture goroutine's next wait and
// returns once that event has been handled in full.
func (d *fakeDevice) step(t testing.TB, s fakeStep) {
	t.Helper()
	for _, st := range []fakeStep{s, {kind: "sync"}} {
		if st.kind == "sync" && (s.kind == "unplug" || s.kind == "stall") {
			return // the capture goroutine ends; nobody waits again
		}
		select {
		case d.script <- st:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nobody waits for frames (step %q)", d.path, st.kind)
		}
	}
}

func (d *fakeDevice) capsOrDefault() uint32 {
	if d.caps == 0 {
		return capVideoCapture | capStreaming
	}
	return d.caps
}

// rowBytes is the tight row length of an uncompressed format.
func rowBytes(f FourCC, w int) int {
	switch f {
	case YUYV:
		return 4 * ((w + 1) / 2)
	case NV12:
		return w
	case RGB24, BGR24:
		return 3 * w
	}
	return 0
}
