// Package procstat reads a Linux process's CPU time and memory from /proc,
// for the benchmark commands.
package procstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// UserHZ is the unit of the CPU times in /proc/<pid>/stat: clock ticks
// of 1/100 s, fixed by the Linux ABI for everything user space reads.
const UserHZ = 100

// ErrFormat reports /proc contents this package does not understand.
var ErrFormat = errors.New("procstat: unexpected /proc format")

// Stat is what is read from /proc/<pid>/stat.
type Stat struct {
	// UTime and STime are the CPU time spent in user and kernel mode.
	UTime, STime time.Duration
	// RSSPages is the resident set size in pages.
	RSSPages int64
}

// CPU returns user plus system time.
func (p Stat) CPU() time.Duration { return p.UTime + p.STime }

// ParseStat parses the contents of /proc/<pid>/stat. The command
// name (field 2) may hold spaces and parentheses, so the fields are
// counted from the last ')'.
func ParseStat(data []byte) (Stat, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 || bytes.IndexByte(data, '(') < 0 {
		return Stat{}, fmt.Errorf("%w: stat has no command name", ErrFormat)
	}
	// After ") " come fields 3 (state) onwards; utime is field 14,
	// stime 15, rss 24.
	f := strings.Fields(string(data[end+1:]))
	const first = 3
	if len(f) < 24-first+1 {
		return Stat{}, fmt.Errorf("%w: stat has %d fields after the name", ErrFormat, len(f))
	}
	num := func(field int) (int64, error) {
		v, err := strconv.ParseInt(f[field-first], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: stat field %d: %w", ErrFormat, field, err)
		}
		if v < 0 {
			return 0, fmt.Errorf("%w: stat field %d is negative", ErrFormat, field)
		}
		return v, nil
	}
	ut, err := num(14)
	if err != nil {
		return Stat{}, err
	}
	st, err := num(15)
	if err != nil {
		return Stat{}, err
	}
	rss, err := num(24)
	if err != nil {
		return Stat{}, err
	}
	tick := time.Second / UserHZ
	return Stat{UTime: time.Duration(ut) * tick, STime: time.Duration(st) * tick, RSSPages: rss}, nil
}

// ReadStat reads /proc/<pid>/stat; pid 0 means this process.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile(procFile(pid, "stat"))
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(b)
}

func procFile(pid int, name string) string {
	if pid == 0 {
		return "/proc/self/" + name
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}

// ParseStatusKB returns the value in bytes of a "Name:  123 kB" line of
// /proc/<pid>/status, such as VmRSS or VmHWM.
func ParseStatusKB(data []byte, name string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: status line %q", ErrFormat, sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err == nil && n < 0 {
			err = errors.New("negative")
		}
		if err != nil {
			return 0, fmt.Errorf("%w: status line %q: %w", ErrFormat, sc.Text(), err)
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("%w: no %s in status", ErrFormat, name)
}

// Memory is a process's resident memory: now and at its peak.
type Memory struct {
	RSS, HWM int64
}

// ReadMemory reads VmRSS and VmHWM from /proc/<pid>/status; pid 0 means
// this process.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(procFile(pid, "status"))
	if err != nil {
		return Memory{}, err
	}
	rss, err := ParseStatusKB(b, "VmRSS")
	if err != nil {
		return Memory{}, err
	}
	hwm, err := ParseStatusKB(b, "VmHWM")
	if err != nil {
		return Memory{}, err
	}
	return Memory{RSS: rss, HWM: hwm}, nil
}

// ParseCPUModel returns the first "model name" of /proc/cpuinfo, or ""
// when there is none (some architectures name it otherwise).
func ParseCPUModel(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
