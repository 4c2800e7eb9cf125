package signalbench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat, 1/100 s, fixed
// by the Linux ABI for everything user space reads.
const userHZ = 100

// parseStatCPU returns utime+stime from the contents of /proc/PID/stat.
// The command name (field 2) may hold spaces and parentheses, so fields
// are counted from the last ')'.
func parseStatCPU(data []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 || bytes.IndexByte(data, '(') < 0 {
		return 0, fmt.Errorf("%w: stat has no command name", ErrProcFormat)
	}
	f := strings.Fields(string(data[end+1:]))
	const first = 3 // f[0] is field 3, the state
	if len(f) < 15-first+1 {
		return 0, fmt.Errorf("%w: stat has %d fields after the name", ErrProcFormat, len(f))
	}
	var ticks int64
	for _, field := range []int{14, 15} {
		v, err := strconv.ParseInt(f[field-first], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%w: stat field %d: %q", ErrProcFormat, field, f[field-first])
		}
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// parseStatusBytes returns the value in bytes of a "Name:  123 kB" line
// of /proc/PID/status, such as VmRSS.
func parseStatusBytes(data []byte, name string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(v), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 || unit != "kB" {
			return 0, fmt.Errorf("%w: %s: %q", ErrProcFormat, name, v)
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("%w: no %s line", ErrProcFormat, name)
}

// processCPU returns the user plus system CPU time process pid has used.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// processRSS returns the resident set size of process pid in bytes.
func processRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusBytes(b, "VmRSS")
}

func pidSelf() int { return os.Getpid() }
