package signalbench

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCandidateMessageIsTheBrowsersShapeAndSize(t *testing.T) {
	msg := candidateMessage(300)
	var m struct {
		Type      string `json:"type"`
		Candidate struct {
			Candidate     string `json:"candidate"`
			SDPMid        string `json:"sdpMid"`
			SDPMLineIndex *int   `json:"sdpMLineIndex"`
		} `json:"candidate"`
		TS string `json:"ts"`
	}
	require.NoError(t, json.Unmarshal(msg, &m), "%s", msg)
	assert.Equal(t, "candidate", m.Type)
	assert.True(t, strings.HasPrefix(m.Candidate.Candidate, "candidate:"))
	require.NotNil(t, m.Candidate.SDPMLineIndex)
	withSender := len(msg) + len(`,"sender":"mi3x8k2a1b2c3d"`)
	assert.Equal(t, 300, withSender, "300 bytes once the server adds a sender")
}

func TestStampRoundTrip(t *testing.T) {
	msg := candidateMessage(300)
	ts, ok := readStamp(msg)
	require.True(t, ok)
	assert.Zero(t, ts)
	stamp(msg, 1234567890123)
	ts, ok = readStamp(msg)
	require.True(t, ok)
	assert.Equal(t, int64(1234567890123), ts)
	assert.True(t, json.Valid(msg), "a stamped message is still JSON (the Node server parses it)")
	// The server appends sender after the stamp; the stamp still reads.
	forwarded := append(msg[:len(msg)-1:len(msg)-1], `,"sender":"abc"}`...)
	ts, ok = readStamp(forwarded)
	require.True(t, ok)
	assert.Equal(t, int64(1234567890123), ts)

	_, ok = readStamp([]byte(`{"type":"joined","id":"x"}`))
	assert.False(t, ok)
	_, ok = readStamp([]byte(`{"bench":1,"ts":"12`))
	assert.False(t, ok, "a cut-off stamp is not read")
}

func TestMedianAndPercentile(t *testing.T) {
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	assert.Equal(t, 1.0, median([]float64{math.NaN(), 1}), "NaN (not measured) is left out")
	assert.True(t, math.IsNaN(median([]float64{math.NaN()})))

	lat := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	assert.Equal(t, time.Duration(5), percentile(lat, 0.5))
	assert.Equal(t, time.Duration(10), percentile(lat, 0.99))
	assert.Equal(t, time.Duration(0), percentile(nil, 0.5))
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	c, err := Config{}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, []int{10, 100, 1000, 10000}, c.Counts)
	assert.Equal(t, []Kind{KindGo, KindNode}, c.Servers)
	assert.Equal(t, 100, c.rooms(1000))
	assert.Equal(t, 1, c.rooms(5))

	for _, bad := range []Config{{Counts: []int{1}}, {Rooms: -1}, {MessageBytes: 100}} {
		_, err := bad.withDefaults()
		assert.ErrorIs(t, err, ErrConfig, "%+v", bad)
	}
}

func sampleReport() *Report {
	cfg, _ := Config{Counts: []int{100}, Runs: 3}.withDefaults()
	nan := math.NaN()
	rep := &Report{Config: cfg}
	for i, v := range []float64{900e3, 1000e3, 1100e3} {
		rep.Results = append(rep.Results,
			Result{Kind: KindGo, N: 100, Held: 100, Rooms: 10, IdleRSS: 8 << 10, JoinedRSS: 9 << 10, IdleHeap: 4 << 10, JoinedHeap: 5 << 10,
				Goroutines: 1, Delivered: v, PerCPUSecond: 2 * v, ServerCPU: 0.5, ClientCPU: 0.9, ServerDrops: 0, Dropped: i % 2},
			Result{Kind: KindNode, N: 100, Held: 100, IdleRSS: 7 << 10, JoinedRSS: nan, IdleHeap: nan, JoinedHeap: nan,
				Goroutines: nan, Delivered: v / 10, PerCPUSecond: v / 8, ServerCPU: 0.8, ClientCPU: 0.5, ServerDrops: nan})
	}
	for _, p := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond} {
		rep.Paced = append(rep.Paced, Paced{Kind: KindGo, Clients: 100, Samples: 1000, P50: p / 2, P99: p, Max: 2 * p})
	}
	return rep
}

func TestReportMarkdown(t *testing.T) {
	var b strings.Builder
	require.NoError(t, sampleReport().WriteMarkdown(&b))
	out := b.String()
	assert.Contains(t, out, "| 100 | go | 100 | 1 | 8.0 | 9.0 | 4.0 / 5.0 | 1.00 | 1,000,000 | 2,000,000 | 50% | 90% |", out)
	assert.Contains(t, out, "| 100 | node | 100 | 0 | 7.0 | – | – | – | 100,000 | 125,000 | 80% | 50% |", out)
	assert.Contains(t, out, "Go/Node deliveries per server CPU-s 16.0×")
	assert.Contains(t, out, "| go | 3,000 | 1.00 | 2.00 | 4.00 | 0 |", out)
}

func TestThousands(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		assert.Equal(t, want, thousands(x))
	}
	assert.Equal(t, "–", thousands(math.NaN()))
}

// Paced runs are summed (samples), kept at their worst (dropped) and
// given as medians (percentiles), per server and per instance count.
func TestPacedSummaries(t *testing.T) {
	ms := time.Millisecond
	r := &Report{
		Config: Config{Servers: []Kind{KindGo, KindNode}, Instances: []int{1, 2}},
		Paced: []Paced{
			{Kind: KindGo, Clients: 100, Samples: 10, P50: 1 * ms, P99: 5 * ms, Max: 9 * ms},
			{Kind: KindGo, Clients: 100, Samples: 20, P50: 3 * ms, P99: 4 * ms, Max: 7 * ms, Dropped: 2},
			{Kind: KindGo, Clients: 100, Samples: 30, P50: 2 * ms, P99: 6 * ms, Max: 8 * ms},
		},
		FleetPaced: []FleetPaced{
			{Instances: 2, Paced: Paced{Clients: 50, Samples: 5, P50: 4 * ms, P99: 8 * ms, Max: 9 * ms, Dropped: 1}},
		},
	}
	got := r.PacedSummaries()
	require.Len(t, got, 1, "no node runs, no node row")
	assert.Equal(t, Paced{Kind: KindGo, Clients: 100, Samples: 60, P50: 2 * ms, P99: 5 * ms, Max: 8 * ms, Dropped: 2}, got[0])
	fleet := r.FleetPacedSummaries()
	require.Len(t, fleet, 1)
	assert.Equal(t, FleetPaced{Instances: 2, Paced: Paced{Kind: KindGo, Clients: 50, Samples: 5, P50: 4 * ms, P99: 8 * ms, Max: 9 * ms, Dropped: 1}}, fleet[0])
}
