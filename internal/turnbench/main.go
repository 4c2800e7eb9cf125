// Command turnbench measures turnsrv against coturn with coturn's own load
// generator, turnutils_uclient, on loopback, and prints a Markdown table.
//
//	go run ./internal/turnbench              # every load, 3 runs each, medians
//	go run ./internal/turnbench -runs 1 -n 200 -loads 100x1200z0
//
// Each run starts a fresh server process (the client never frees its
// allocations): coturn's turnserver, or this binary re-executed with
// -serve, which runs turnsrv. The client runs in client-to-client mode
// (-y), so every message crosses the server twice (client to relay, relay
// to relay, relay to client). Reported per run: messages received per
// second and Mbit/s of payload over the client's transmit time (whole
// seconds, as it reports it), loss, server CPU (% of one core, and µs
// per message delivered; the sum of the server's threads' run times in
// /proc, in nanoseconds) and the kernel's UDP receive-buffer drops
// (RcvbufErrors in /proc/net/snmp, system-wide, so the client's sockets
// count too). -profile-dir DIR writes a CPU profile of every turnsrv run.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/avlink/avlink/turnsrv"
)

const (
	user  = "robot"
	pass  = "s3cret"
	realm = "bench.test"
)

// load is one turnutils_uclient workload.
type load struct {
	sessions, size, interval int
	noRTCP                   bool
}

func (l load) String() string {
	s := fmt.Sprintf("%dx%dz%d", l.sessions, l.size, l.interval)
	if l.noRTCP {
		s += "c"
	}
	return s
}

// The loads of the comparison: 10 and 100 sessions, 170 and 1,200 bytes,
// paced (20 ms) and unpaced, and 400 sessions without RTCP allocations.
var defaultLoads = []load{
	{10, 170, 20, false}, {10, 1200, 20, false}, {100, 170, 20, false}, {100, 1200, 20, false},
	{10, 170, 0, false}, {10, 1200, 0, false}, {100, 170, 0, false}, {100, 1200, 0, false},
	{400, 170, 20, true},
}

// result is one client run against one server.
type result struct {
	sent, recv                        int
	recvBytes                         int64
	elapsed                           time.Duration
	cpu                               time.Duration
	rcvbufErrors, serverDrops         uint64
	pps, mbps, cpu100, usPerMsg, loss float64
}

func main() {
	serve := flag.Bool("serve", false, "run turnsrv (used by the benchmark itself)")
	port := flag.Int("port", 3478, "server port (with -serve)")
	minPort := flag.Int("min-port", 49152, "relay port range start (with -serve)")
	maxPort := flag.Int("max-port", 65535, "relay port range end (with -serve)")
	runs := flag.Int("runs", 3, "runs per load and server; the median is reported")
	msgs := flag.Int("n", 0, "messages per session (turnutils_uclient -n); 0 means 500 paced and 200000/sessions unpaced")
	readers := flag.Int("readers", 0, "turnsrv UDP readers per port, Config.UDPReaders (0: its default)")
	procs := flag.Int("gomaxprocs", 0, "GOMAXPROCS of the turnsrv process (0: Go's default, the number of CPUs)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the server here (with -serve)")
	profDir := flag.String("profile-dir", "", "write a CPU profile of every turnsrv run into this directory")
	loadList := flag.String("loads", "", "comma-separated loads like 100x1200z0 or 400x170z20c (default: all)")
	flag.Parse()
	if *serve {
		if *procs > 0 {
			runtime.GOMAXPROCS(*procs)
		}
		if *cpuProfile != "" {
			fh, err := os.Create(*cpuProfile)
			if err == nil && pprof.StartCPUProfile(fh) == nil {
				defer func() { pprof.StopCPUProfile(); _ = fh.Close() }()
			}
		}
		if err := serveTurnsrv(*port, *minPort, *maxPort, *readers); err != nil {
			fmt.Fprintln(os.Stderr, "turnbench:", err)
			os.Exit(1) //nolint:gocritic // the profile is lost on this error path
		}
		return
	}
	loads, err := parseLoads(*loadList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "turnbench:", err)
		os.Exit(2)
	}
	if err := bench(loads, *runs, *msgs, *readers, *procs, *profDir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "turnbench:", err)
		os.Exit(1)
	}
}

func parseLoads(s string) ([]load, error) {
	if s == "" {
		return defaultLoads, nil
	}
	re := regexp.MustCompile(`^(\d+)x(\d+)z(\d+)(c?)$`)
	var out []load
	for _, f := range strings.Split(s, ",") {
		m := re.FindStringSubmatch(strings.TrimSpace(f))
		if m == nil {
			return nil, fmt.Errorf("bad load %q (want e.g. 100x1200z0 or 400x170z20c)", f)
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		c, _ := strconv.Atoi(m[3])
		out = append(out, load{a, b, c, m[4] == "c"})
	}
	return out, nil
}

// serveTurnsrv runs turnsrv with settings equivalent to the coturn runs.
func serveTurnsrv(port, minPort, maxPort, readers int) error {
	srv, err := turnsrv.New(turnsrv.Config{
		ListeningIPs:       []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		ListeningPort:      port,
		NoTCP:              true,
		Realm:              realm,
		Users:              map[string]string{user: pass},
		MinPort:            minPort,
		MaxPort:            maxPort,
		Fingerprint:        true,
		AllowLoopbackPeers: true,
		UDPReaders:         readers,
		Logger:             slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return srv.Close()
}

func bench(loads []load, runs, msgs, readers, procs int, profDir string, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	coturn, err := exec.LookPath("turnserver")
	if err != nil {
		return fmt.Errorf("coturn's turnserver is needed for the comparison: %w", err)
	}
	if _, err := exec.LookPath("turnutils_uclient"); err != nil {
		return fmt.Errorf("coturn's turnutils_uclient is needed: %w", err)
	}
	dir, err := os.MkdirTemp("", "turnbench")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	fmt.Fprintf(out, "turnutils_uclient -y, loopback, %d run(s) per cell (median), fresh server per run\n\n", runs)
	fmt.Fprintln(out, "| load | server | msg/s | Mbit/s | loss | CPU % core | µs/msg | kernel drops (all) | at the server |")
	fmt.Fprintln(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	port := 23478
	for _, l := range loads {
		var per [2][]result
		for r := 0; r < runs; r++ {
			for i, name := range []string{"coturn", "turnsrv"} {
				port += 2
				minP := 30000 + (port%20)*1000
				var args []string
				bin := self
				if name == "coturn" {
					bin = coturn
					args = []string{
						"-n", "--no-cli", "--listening-ip=127.0.0.1", "--listening-port=" + strconv.Itoa(port),
						"--relay-ip=127.0.0.1", "--realm=" + realm, "--lt-cred-mech", "--user=" + user + ":" + pass,
						"--min-port=" + strconv.Itoa(minP), "--max-port=" + strconv.Itoa(minP+999),
						"--fingerprint", "--no-multicast-peers", "--no-tls", "--no-dtls", "--no-tcp",
						"--allow-loopback-peers", "--log-file=/dev/null", "--no-stdout-log",
						"--userdb=" + filepath.Join(dir, fmt.Sprintf("db%d", port)),
						"--pidfile=" + filepath.Join(dir, fmt.Sprintf("pid%d", port)),
					}
				} else {
					args = []string{"-serve", "-port", strconv.Itoa(port),
						"-min-port", strconv.Itoa(minP), "-max-port", strconv.Itoa(minP + 999),
						"-readers", strconv.Itoa(readers), "-gomaxprocs", strconv.Itoa(procs)}
					if profDir != "" {
						args = append(args, "-cpuprofile", filepath.Join(profDir, fmt.Sprintf("%s-%d.pprof", l, r)))
					}
				}
				res, err := runOnce(bin, args, port, l, msgs)
				if err != nil {
					// One retry on a fresh port: the client occasionally
					// collides with ports in use by an earlier run.
					fmt.Fprintf(os.Stderr, "turnbench: %s %s: %v; retrying once\n", name, l, err)
					port += 2
					args = slices.Clone(args)
					for k, a := range args {
						if a == "-port" {
							args[k+1] = strconv.Itoa(port)
						} else if strings.HasPrefix(a, "--listening-port=") {
							args[k] = "--listening-port=" + strconv.Itoa(port)
						}
					}
					res, err = runOnce(bin, args, port, l, msgs)
				}
				if err != nil {
					return fmt.Errorf("%s %s: %w", name, l, err)
				}
				per[i] = append(per[i], res)
			}
		}
		c, t := median(per[0]), median(per[1])
		row := func(name string, r result) {
			fmt.Fprintf(out, "| %s | %s | %.0f | %.1f | %.2f%% | %.0f | %.2f | %d | %d |\n",
				l, name, r.pps, r.mbps, r.loss*100, r.cpu100, r.usPerMsg, r.rcvbufErrors, r.serverDrops)
		}
		row("coturn", c)
		row("turnsrv", t)
		fmt.Fprintf(out, "| %s | ratio | %.2f× | %.2f× | | %.2f× | %.2f× | | |\n",
			l, ratio(t.pps, c.pps), ratio(t.mbps, c.mbps), ratio(t.cpu100, c.cpu100), ratio(t.usPerMsg, c.usPerMsg))
	}
	return nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// median picks the run with the median message rate.
func median(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int {
		switch {
		case a.pps < b.pps:
			return -1
		case a.pps > b.pps:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

var (
	reTotals = regexp.MustCompile(`tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`)
	reBytes  = regexp.MustCompile(`tot_send_bytes ~ (\d+), tot_recv_bytes ~ (\d+)`)
	reTime   = regexp.MustCompile(`Total transmit time is (\d+)`)
)

// runOnce starts a server, waits for it, runs the client and measures.
func runOnce(bin string, args []string, port int, l load, msgs int) (result, error) {
	srv := exec.Command(bin, args...) //nolint:gosec // the benchmark's own binaries
	srv.Stdout, srv.Stderr = io.Discard, os.Stderr
	if err := srv.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
	}()
	if err := waitListening(port); err != nil {
		return result{}, err
	}
	if msgs == 0 {
		msgs = 500
		if l.interval == 0 {
			msgs = 200000 / l.sessions
		}
	}
	clientArgs := []string{"-y", "-u", user, "-w", pass, "-p", strconv.Itoa(port),
		"-m", strconv.Itoa(l.sessions), "-l", strconv.Itoa(l.size), "-n", strconv.Itoa(msgs),
		"-z", strconv.Itoa(l.interval)}
	if l.noRTCP {
		clientArgs = append(clientArgs, "-c")
	}
	clientArgs = append(clientArgs, "127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cpu0, err := procCPU(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	drops0 := rcvbufErrors()
	sdrops0 := socketDrops(srv.Process.Pid)
	start := time.Now()
	outBytes, err := exec.CommandContext(ctx, "turnutils_uclient", clientArgs...).CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("turnutils_uclient: %w: %s", err, tail(outBytes))
	}
	cpu1, err := procCPU(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	r := result{elapsed: elapsed, cpu: cpu1 - cpu0, rcvbufErrors: rcvbufErrors() - drops0,
		serverDrops: socketDrops(srv.Process.Pid) - sdrops0}
	m := reTotals.FindAllSubmatch(outBytes, -1)
	b := reBytes.FindAllSubmatch(outBytes, -1)
	if len(m) == 0 || len(b) == 0 {
		return result{}, fmt.Errorf("no totals in client output: %s", tail(outBytes))
	}
	r.sent, _ = strconv.Atoi(string(m[len(m)-1][1]))
	r.recv, _ = strconv.Atoi(string(m[len(m)-1][2]))
	r.recvBytes, _ = strconv.ParseInt(string(b[len(b)-1][2]), 10, 64)
	// The client idles for seconds after sending; rates use its own
	// transmit time (whole seconds), CPU per message uses all CPU spent.
	secs := 1.0
	if t := reTime.FindAllSubmatch(outBytes, -1); len(t) > 0 {
		if v, _ := strconv.Atoi(string(t[len(t)-1][1])); v > 1 {
			secs = float64(v)
		}
	}
	r.pps = float64(r.recv) / secs
	r.mbps = float64(r.recvBytes) * 8 / secs / 1e6
	r.cpu100 = r.cpu.Seconds() / secs * 100
	if r.recv > 0 {
		r.usPerMsg = float64(r.cpu.Microseconds()) / float64(r.recv)
	}
	if r.sent > 0 {
		r.loss = 1 - float64(r.recv)/float64(r.sent)
	}
	return r, nil
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 600 {
		s = s[len(s)-600:]
	}
	return s
}

// waitListening waits until the UDP port is bound (seen in /proc/net/udp).
func waitListening(port int) error {
	want := fmt.Sprintf(":%04X ", port)
	for range 200 {
		if b, err := os.ReadFile("/proc/net/udp"); err == nil && strings.Contains(string(b), want) {
			time.Sleep(100 * time.Millisecond)
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("server did not bind port %d", port)
}

// procCPU returns the CPU time of a process and its threads: the sum of
// the threads' run times in /proc/PID/task/*/schedstat (nanoseconds), or,
// where that is missing, user+system time from /proc/PID/stat, which
// counts whole clock ticks (10 ms) and so blurs light loads.
func procCPU(pid int) (time.Duration, error) {
	if d, ok := schedCPU(pid); ok {
		return d, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// schedCPU sums the run time of every thread of a process. Both servers
// keep their threads for their whole life, so none is lost by exiting.
func schedCPU(pid int) (time.Duration, bool) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, false
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread ended meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		sum += ns
	}
	return time.Duration(sum), len(tasks) > 0
}

// socketDrops sums the kernel's drop counters (/proc/net/udp and udp6)
// of the UDP sockets a process holds, so drops at the server can be told
// from drops at the client.
func socketDrops(pid int) uint64 {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var sum uint64
	for _, table := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// ... uid timeout inode ref pointer drops
			if len(f) >= 13 && inodes[f[9]] {
				d, _ := strconv.ParseUint(f[len(f)-1], 10, 64)
				sum += d
			}
		}
	}
	return sum
}

// rcvbufErrors reads Udp RcvbufErrors from /proc/net/snmp.
func rcvbufErrors() uint64 {
	fh, err := os.Open("/proc/net/snmp")
	if err != nil {
		return 0
	}
	defer func() { _ = fh.Close() }()
	sc := bufio.NewScanner(fh)
	var names []string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}
