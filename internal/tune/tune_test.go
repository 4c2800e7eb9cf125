package tune

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    []string
		changed bool
	}{
		{"neither set", []string{"HOME=/root"},
			[]string{"HOME=/root", "GODEBUG=" + schedtraceNever, "GLIBC_TUNABLES=" + hugeMalloc}, true},
		{"others kept", []string{"GODEBUG=http2client=0", "GLIBC_TUNABLES=glibc.malloc.arena_max=2"},
			[]string{"GODEBUG=http2client=0," + schedtraceNever, "GLIBC_TUNABLES=glibc.malloc.arena_max=2:" + hugeMalloc}, true},
		{"empty values", []string{"GODEBUG=", "GLIBC_TUNABLES="},
			[]string{"GODEBUG=" + schedtraceNever, "GLIBC_TUNABLES=" + hugeMalloc}, true},
		{"user's values win", []string{"GODEBUG=gctrace=1,schedtrace=0", "GLIBC_TUNABLES=glibc.malloc.hugetlb=0"},
			[]string{"GODEBUG=gctrace=1,schedtrace=0", "GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, false},
		{"already tuned", []string{"GODEBUG=" + schedtraceNever, "GLIBC_TUNABLES=" + hugeMalloc},
			[]string{"GODEBUG=" + schedtraceNever, "GLIBC_TUNABLES=" + hugeMalloc}, false},
		{"switched off", []string{"A=1", OffEnv + "=off"}, []string{"A=1", OffEnv + "=off"}, false},
		{"only off turns it off", []string{OffEnv + "=no"},
			[]string{OffEnv + "=no", "GODEBUG=" + schedtraceNever, "GLIBC_TUNABLES=" + hugeMalloc}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]string(nil), tc.in...)
			got, changed := Env(in)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.changed, changed)
			assert.Equal(t, tc.in, in, "the input is not modified")
		})
	}
}

// TestReexec runs this test binary as a program that calls Reexec and
// prints what its second start sees.
func TestReexec(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Reexec re-executes on Linux only")
	}
	if os.Getenv("TUNE_TEST_CHILD") == "1" {
		Reexec()
		os.Stdout.WriteString(os.Getenv("GODEBUG") + "|" + os.Getenv("GLIBC_TUNABLES") + "|" + strings.Join(os.Args[1:], " ") + "\n")
		os.Exit(0)
	}
	run := func(extra ...string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReexec$")
		cmd.Env = append(os.Environ(), "TUNE_TEST_CHILD=1", "GODEBUG=", "GLIBC_TUNABLES=", OffEnv+"=")
		cmd.Env = append(cmd.Env, extra...)
		out, err := cmd.Output()
		require.NoError(t, err)
		return strings.TrimSpace(string(out))
	}
	assert.Equal(t, schedtraceNever+"|"+hugeMalloc+"|-test.run=^TestReexec$", run(),
		"the second start has the settings and the same arguments")
	assert.Equal(t, "||-test.run=^TestReexec$", run(OffEnv+"=off"), "AVLINK_TUNE=off starts once, untuned")
}
