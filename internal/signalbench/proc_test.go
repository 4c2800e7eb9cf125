package signalbench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const statSample = "4242 (signal server) S 1 4242 4242 0 -1 4194560 1020 0 0 0 250 75 0 0 20 0 9 0 12345 1263906816 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"

func TestParseStatCPU(t *testing.T) {
	cpu, err := parseStatCPU([]byte(statSample))
	require.NoError(t, err)
	assert.Equal(t, 3250*time.Millisecond, cpu, "utime 250 + stime 75 ticks of 10 ms")

	// A command name with ") (" in it must not shift the fields.
	odd := "7 (a) (b c) S 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1 1"
	cpu, err = parseStatCPU([]byte(odd))
	require.NoError(t, err)
	assert.Equal(t, 70*time.Millisecond, cpu)

	for _, bad := range []string{"", "no parens", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 1"} {
		_, err := parseStatCPU([]byte(bad))
		assert.ErrorIs(t, err, ErrProcFormat, "%q", bad)
	}
}

func TestParseStatusBytes(t *testing.T) {
	status := "Name:\tsignal-server\nVmPeak:\t  20000 kB\nVmRSS:\t   12345 kB\nThreads:\t7\n"
	rss, err := parseStatusBytes([]byte(status), "VmRSS")
	require.NoError(t, err)
	assert.Equal(t, int64(12345*1024), rss)

	_, err = parseStatusBytes([]byte(status), "VmSwap")
	assert.ErrorIs(t, err, ErrProcFormat)
	_, err = parseStatusBytes([]byte("VmRSS: lots kB\n"), "VmRSS")
	assert.ErrorIs(t, err, ErrProcFormat)
	_, err = parseStatusBytes([]byte("VmRSS: 12 MB\n"), "VmRSS")
	assert.ErrorIs(t, err, ErrProcFormat)
}

func TestProcessOfThisTest(t *testing.T) {
	rss, err := processRSS(pidSelf())
	require.NoError(t, err)
	assert.Greater(t, rss, int64(1<<20), "a Go test binary is resident in more than 1 MiB")
	_, err = processCPU(pidSelf())
	require.NoError(t, err)
}

func FuzzParseStatCPU(f *testing.F) {
	f.Add([]byte(statSample))
	f.Add([]byte("7 (a) (b c) S 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1 1"))
	f.Add([]byte("1 (x) S"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cpu, err := parseStatCPU(data)
		if err == nil && cpu < 0 {
			t.Fatalf("negative CPU time %v from %q", cpu, data)
		}
	})
}

func FuzzParseStatusBytes(f *testing.F) {
	f.Add([]byte("VmRSS:\t   12345 kB\n"))
	f.Add([]byte("VmRSS: 1 MB\n"))
	f.Add([]byte("Name: x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseStatusBytes(data, "VmRSS")
		if err == nil && n < 0 {
			t.Fatalf("negative size %d from %q", n, data)
		}
	})
}

func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte("# HELP go_goroutines x\ngo_goroutines 12\nreq_total{code=\"200\", path=\"/a b\"} 3\nreq_total{code=\"500\"} 1e1\n"))
	f.Add([]byte("x{ 1\n}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = parseMetrics(data)
	})
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics([]byte("# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 12\n" +
		"avlink_signal_refusals_total{reason=\"too big\"} 3\navlink_signal_refusals_total{reason=\"origin\"} 1e1\nbroken\n"))
	assert.Equal(t, 12.0, m["go_goroutines"])
	assert.Equal(t, 13.0, m["avlink_signal_refusals_total"], "labelled series add up under their name")
	assert.NotContains(t, m, "broken")
}
