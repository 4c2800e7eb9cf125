package rtclink_test

import (
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/pion/transport/v5/vnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// soakLatency records each decoded frame's capture-to-decoded time for
// the minute under way; the test takes each minute's away, so what the
// test itself holds stays bounded and out of the heap figures.
type soakLatency struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *soakLatency) WriteVideo(f *capture.VideoFrame) error {
	t, _, err := stamp.Read(f)
	if err != nil {
		return nil
	}
	d := time.Since(t)
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

func (s *soakLatency) Close() error { return nil }

func (s *soakLatency) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.d)
}

// take returns the times recorded since the last call.
func (s *soakLatency) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.d
	s.d = make([]time.Duration, 0, len(d))
	return d
}

// percentiles returns the frames and their p50 and p95.
func percentiles(d []time.Duration) (n int, p50, p95 time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return len(d), d[len(d)/2], d[len(d)*95/100]
}

// rssBytes is the process's resident set, from /proc (0 elsewhere).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// A long call with 5% loss each way: memory and goroutines stay flat,
// the tail latency at the end is what it was at the start, and nothing
// is left behind after Close. It runs only when AVLINK_SOAK gives its
// length (30m for the README's figure):
//
//	AVLINK_SOAK=30m go test -run TestSoak -timeout 45m -v ./rtclink
func TestSoak(t *testing.T) {
	length, _ := time.ParseDuration(os.Getenv("AVLINK_SOAK"))
	if length <= 0 {
		t.Skip("a soak test: set AVLINK_SOAK=30m to run it")
	}
	win := max(time.Minute, min(5*time.Minute, length/6))
	goroutines0 := runtime.NumGoroutine()

	net := newVnetPair(t)
	rng := rand.New(rand.NewPCG(7, 7))
	var rngMu sync.Mutex
	net.filter = func(vnet.Chunk) bool {
		rngMu.Lock()
		defer rngMu.Unlock()
		return rng.Float64() >= 0.05
	}
	url := signalServer(t)
	lat := &soakLatency{}
	audio := &rtctestAudio{}
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "soak"), Net: net.b, Logger: testLogger(),
		ReceiveVideo: videoReceiver(playback.VideoSink(lat)), ReceiveAudio: audioReceiver(audio),
	})
	require.NoError(t, err)
	robot, err := rtclink.New(rtclink.Config{
		Signaler: dial(t, url, "soak"), Role: rtclink.Offerer, Net: net.a, Logger: testLogger(),
		Video: videoSender(t, 640, 480), Audio: audioSender(t, 440),
	})
	require.NoError(t, err)
	eventually(t, 20*time.Second, func() bool { return lat.count() > 0 }, "no frame over the lossy path")

	start := time.Now()
	lat.take()
	minutes := int(win / time.Minute)
	var first, last [][]time.Duration // each minute's times, the first and the latest windows
	type sample struct {
		at         time.Duration
		rss        int64
		heap       uint64
		goroutines int
	}
	var samples []sample
	for at := time.Minute; at <= length; at += time.Minute {
		time.Sleep(time.Until(start.Add(at)))
		s := sample{at, rssBytes(), heapAfterGC(), runtime.NumGoroutine()}
		samples = append(samples, s)
		d := lat.take()
		if len(first) < minutes {
			first = append(first, d)
		}
		last = append(last, d)
		if len(last) > minutes {
			last = last[1:]
		}
		n, p50, p95 := percentiles(d)
		t.Logf("%3v: %d frames, capture-to-decoded p50 %v p95 %v, RSS %.1f MiB, heap %.1f MiB, %d goroutines, audio blocks %d",
			at, n, p50.Round(10*time.Microsecond), p95.Round(10*time.Microsecond), float64(s.rss)/(1<<20), float64(s.heap)/(1<<20), s.goroutines, audio.blocks())
	}
	n1, p50a, p95a := percentiles(slices.Concat(first...))
	n2, p50b, p95b := percentiles(slices.Concat(last...))
	t.Logf("first %v: %d frames, p50 %v p95 %v; last %v: %d frames, p50 %v p95 %v",
		win, n1, p50a, p95a, win, n2, p50b, p95b)
	// A call that decays decodes fewer frames at the end; a busy machine
	// may slow either window.
	assert.GreaterOrEqual(t, float64(n2), 0.8*float64(n1), "frames decoded, last window against first")
	// A queue that grows over the call raises the whole distribution by
	// tens of milliseconds. Under 5% loss the p95 is a frame that waited
	// for a retransmission, set by the NACK interval (100 ms) and the
	// loss pattern of the window, and the p50 follows the machine's load:
	// both are reported against the aim of 1 ms and held only to not
	// drifting.
	assert.Less(t, p50b, p50a+2*time.Millisecond, "capture-to-decoded p50, last window against first")
	assert.Less(t, p95b, p95a+25*time.Millisecond, "capture-to-decoded p95, last window against first")

	// Flat: the state after the first window (buffers filled, pools
	// warm) against the end.
	base := samples[max(0, int(win/time.Minute)-1)]
	end := samples[len(samples)-1]
	assert.LessOrEqual(t, end.goroutines, base.goroutines+4, "goroutines grew")
	assert.LessOrEqual(t, end.heap, base.heap+base.heap/5+4<<20, "heap after GC grew")
	assert.LessOrEqual(t, end.rss, base.rss+base.rss/4, "RSS grew")

	require.NoError(t, robot.Close())
	require.NoError(t, viewer.Close())
	eventually(t, 10*time.Second, func() bool { return runtime.NumGoroutine() <= goroutines0+8 }, "goroutines left after Close: %d, %d before the call", runtime.NumGoroutine(), goroutines0)
}

// rtctestAudio counts decoded audio blocks.
type rtctestAudio struct {
	mu sync.Mutex
	n  int
}

func (a *rtctestAudio) WriteAudio(*capture.AudioFrame) error {
	a.mu.Lock()
	a.n++
	a.mu.Unlock()
	return nil
}

func (a *rtctestAudio) Close() error { return nil }

func (a *rtctestAudio) blocks() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}
