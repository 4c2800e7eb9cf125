package procstat

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real line from /proc/<pid>/stat, with a command name that holds a
// space and parentheses.
const statLine = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 5000 0 0 0 " +
	"1234 56 0 0 20 0 12 0 987654 1234567890 3456 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

func TestParseStat(t *testing.T) {
	st, err := ParseStat([]byte(statLine))
	require.NoError(t, err)
	assert.Equal(t, 12340*time.Millisecond, st.UTime)
	assert.Equal(t, 560*time.Millisecond, st.STime)
	assert.Equal(t, 12900*time.Millisecond, st.CPU())
	assert.Equal(t, int64(3456), st.RSSPages)

	// A command name with ") (" in it must not shift the fields.
	odd, err := ParseStat([]byte("7 (a) (b c) S 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1 1"))
	require.NoError(t, err)
	assert.Equal(t, 70*time.Millisecond, odd.CPU())

	for _, bad := range []string{"", "4242 cmd S 1", "1 (x) S 1 2 3", strings.Replace(statLine, " 1234 ", " x ", 1), strings.Replace(statLine, " 1234 ", " -5 ", 1)} {
		_, err := ParseStat([]byte(bad))
		assert.ErrorIs(t, err, ErrFormat, "%q", bad)
	}
	self, err := ReadStat(0)
	require.NoError(t, err)
	assert.Positive(t, self.RSSPages)
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tmediabench\nVmHWM:\t   40960 kB\nVmRSS:\t   30720 kB\nThreads:\t7\n"
	n, err := ParseStatusKB([]byte(status), "VmRSS")
	require.NoError(t, err)
	assert.Equal(t, int64(30720*1024), n)
	_, err = ParseStatusKB([]byte(status), "VmSwap")
	assert.ErrorIs(t, err, ErrFormat)
	_, err = ParseStatusKB([]byte("VmRSS: lots\n"), "VmRSS")
	assert.ErrorIs(t, err, ErrFormat)
	_, err = ParseStatusKB([]byte("VmRSS: 12 MB\n"), "VmRSS")
	assert.ErrorIs(t, err, ErrFormat)
	m, err := ReadMemory(0)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, m.HWM, m.RSS)
	assert.Positive(t, m.RSS)
}

func TestParseCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	assert.Equal(t, "AMD EPYC 7B13", ParseCPUModel([]byte(info)))
	assert.Equal(t, "", ParseCPUModel([]byte("processor : 0\n")))
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(statLine))
	f.Add([]byte("1 (a) R"))
	f.Add([]byte(")("))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseStat(b)
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		if err == nil && !bytes.Contains(b, []byte(")")) {
			t.Fatalf("parsed %+v without a command name", st)
		}
	})
}

func FuzzParseStatusKB(f *testing.F) {
	f.Add([]byte("VmRSS:\t 123 kB\n"))
	f.Add([]byte("VmRSS: 1 MB"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseStatusKB(b, "VmRSS"); err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
	})
}

func TestReadOtherProcess(t *testing.T) {
	st, err := ReadStat(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, st.RSSPages)
	m, err := ReadMemory(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, m.RSS)
	_, err = ReadStat(1 << 30)
	assert.Error(t, err, "no such process")
}
