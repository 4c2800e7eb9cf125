package netlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// NAT is the kind of NAT a LAN's router is.
type NAT int

const (
	// Cone is iptables MASQUERADE: a socket keeps one public port (its
	// own, when free) whoever it talks to, and only the addresses it
	// sent to may answer: a port-restricted cone NAT.
	Cone NAT = iota
	// Symmetric is MASQUERADE --random-fully: a new random public port
	// for every destination.
	Symmetric
)

func (n NAT) String() string {
	switch n {
	case Cone:
		return "cone"
	case Symmetric:
		return "symmetric"
	}
	return "NAT(" + strconv.Itoa(int(n)) + ")"
}

// PublicIP is the public namespace's address, where servers listen.
var PublicIP = netip.MustParseAddr("203.0.113.10")

// PublicPrefix is the public segment the routers' WAN sides share with
// the public namespace: peers' addresses as a server there sees them.
var PublicPrefix = netip.MustParsePrefix("203.0.113.0/24")

// lanPlan is each LAN's addressing: the router's WAN address, the LAN
// prefix, the router's and the host's LAN addresses.
var lanPlan = [2]struct{ wan, gw, host string }{
	{"203.0.113.1", "10.99.1.1", "10.99.1.2"},
	{"203.0.113.2", "172.31.2.1", "172.31.2.2"},
}

// Config says what lab to build. Its zero value is two cone NATs.
type Config struct {
	// NATs are the kinds of the two LANs' routers.
	NATs [2]NAT
	// Prefix begins the name of every namespace the lab makes: 1 to 8
	// lowercase letters. Empty means "avlnl". The lab adds its process's
	// id and a counter, and New first removes namespaces left with this
	// prefix by processes that no longer run.
	Prefix string
	// Logger receives what the lab does, at debug level. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Lab is a running set of namespaces: Public and two LANs.
type Lab struct {
	// Public is the public namespace, at PublicIP.
	Public *NS
	// LANs are the two private networks, each behind its router.
	LANs [2]*LAN

	name string
	log  *slog.Logger

	mu     sync.Mutex
	closed bool
	made   []*NS // namespaces created, in order
}

// NS is one network namespace of a lab.
type NS struct {
	// Name is its name for ip netns.
	Name string
	lab  *Lab
}

// LAN is a private network: one host behind a NAT router.
type LAN struct {
	// NAT is what kind of NAT the router is.
	NAT NAT
	// Router and Host are the namespaces of the router and the host.
	Router, Host *NS
	// HostIP is the host's address, GatewayIP the router's on the LAN,
	// PublicIP the router's on the public segment: the address the LAN's
	// traffic leaves with.
	HostIP, GatewayIP, PublicIP netip.Addr

	lab *Lab
}

var labSeq atomic.Int64

var prefixRE = regexp.MustCompile(`^[a-z]{1,8}$`)

const cmdTimeout = 15 * time.Second

// New builds a lab as cfg says and returns it running. The error wraps
// ErrUnavailable when namespaces cannot be made here (not root, no ip
// command, the kernel refused), ErrConfig for a bad cfg, and ErrCommand
// when a step of the building failed.
func New(cfg Config) (*Lab, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "avlnl"
	}
	if !prefixRE.MatchString(cfg.Prefix) {
		return nil, fmt.Errorf("%w: Prefix %q: want 1 to 8 lowercase letters", ErrConfig, cfg.Prefix)
	}
	for i, n := range cfg.NATs {
		if n != Cone && n != Symmetric {
			return nil, fmt.Errorf("%w: NATs[%d] is %v", ErrConfig, i, n)
		}
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: not root (network namespaces, veth and iptables need CAP_NET_ADMIN and CAP_SYS_ADMIN)", ErrUnavailable)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("%w: no ip command (iproute2): %w", ErrUnavailable, err)
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		return nil, fmt.Errorf("%w: no iptables command: %w", ErrCommand, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	removeStale(cfg.Prefix, log)

	l := &Lab{name: fmt.Sprintf("%s%d-%d", cfg.Prefix, os.Getpid(), labSeq.Add(1)), log: log}
	var err error
	if l.Public, err = l.newNS("pub"); err != nil {
		l.Close()
		if errors.Is(err, ErrCommand) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, err
	}
	if err := l.build(cfg); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Lab) build(cfg Config) error {
	pub := l.Public
	steps := [][]string{
		{"-n", pub.Name, "link", "add", "br0", "type", "bridge"},
		{"-n", pub.Name, "addr", "add", PublicIP.String() + "/24", "dev", "br0"},
		{"-n", pub.Name, "link", "set", "br0", "up"},
		// What the public side has no route for (a LAN's private
		// addresses, tried as host candidates) is dropped here.
		{"-n", pub.Name, "route", "add", "blackhole", "default"},
	}
	if err := l.ipAll(steps); err != nil {
		return err
	}
	for i := range l.LANs {
		lan, err := l.newLAN(i, cfg.NATs[i])
		if err != nil {
			return err
		}
		l.LANs[i] = lan
	}
	return nil
}

func (l *Lab) newLAN(i int, nat NAT) (*LAN, error) {
	p := lanPlan[i]
	lan := &LAN{NAT: nat, HostIP: netip.MustParseAddr(p.host), GatewayIP: netip.MustParseAddr(p.gw), PublicIP: netip.MustParseAddr(p.wan), lab: l}
	var err error
	if lan.Router, err = l.newNS("r" + strconv.Itoa(i)); err != nil {
		return nil, err
	}
	if lan.Host, err = l.newNS("h" + strconv.Itoa(i)); err != nil {
		return nil, err
	}
	r, h, pub := lan.Router.Name, lan.Host.Name, l.Public.Name
	port := "w" + strconv.Itoa(i)
	steps := [][]string{
		{"-n", r, "link", "add", "wan0", "type", "veth", "peer", "name", port, "netns", pub},
		{"-n", pub, "link", "set", port, "master", "br0", "up"},
		{"-n", r, "addr", "add", p.wan + "/24", "dev", "wan0"},
		{"-n", r, "link", "set", "wan0", "up"},
		{"-n", r, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", h},
		{"-n", r, "addr", "add", p.gw + "/24", "dev", "lan0"},
		{"-n", r, "link", "set", "lan0", "up"},
		{"-n", r, "route", "add", "default", "via", PublicIP.String()},
		{"-n", h, "addr", "add", p.host + "/24", "dev", "eth0"},
		{"-n", h, "link", "set", "eth0", "up"},
		{"-n", h, "route", "add", "default", "via", p.gw},
	}
	if err := l.ipAll(steps); err != nil {
		return nil, err
	}
	if err := lan.Router.sysctl("net/ipv4/ip_forward", "1"); err != nil {
		return nil, err
	}
	masq := []string{"-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"}
	if nat == Symmetric {
		masq = append(masq, "--random-fully")
	}
	rules := [][]string{
		masq,
		// Only replies come in. An unsolicited packet must not even
		// leave a conntrack entry behind: one for a port the NAT has
		// given a LAN socket would make the NAT map that socket's next
		// destination to another port, and a cone NAT would act
		// symmetric.
		{"-A", "INPUT", "-i", "wan0", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP"},
		{"-A", "FORWARD", "-i", "wan0", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP"},
		// Faults go in a chain of their own, first.
		{"-N", "faults"},
		{"-I", "FORWARD", "1", "-j", "faults"},
	}
	for _, rule := range rules {
		if err := lan.Router.iptables(rule...); err != nil {
			return nil, err
		}
	}
	return lan, nil
}

// newNS makes a namespace named after the lab, with loopback up and IPv6
// off (no link-local addresses to gather or wait for).
func (l *Lab) newNS(suffix string) (*NS, error) {
	n := &NS{Name: l.name + "-" + suffix, lab: l}
	if err := l.ip("netns", "add", n.Name); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.made = append(l.made, n)
	l.mu.Unlock()
	if err := l.ip("-n", n.Name, "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	for _, k := range []string{"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"} {
		if err := n.sysctl(k, "1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return n, nil
}

// Close kills the processes still running in the lab's namespaces and
// deletes the namespaces, and with them their links. It may be called
// more than once.
func (l *Lab) Close() error {
	l.mu.Lock()
	made := l.made
	l.made, l.closed = nil, true
	l.mu.Unlock()
	var errs []error
	for i := len(made) - 1; i >= 0; i-- {
		n := made[i]
		n.killAll()
		if err := l.ip("netns", "del", n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Name is the prefix of the lab's namespace names.
func (l *Lab) Name() string { return l.name }

func (l *Lab) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// ip runs the ip command.
func (l *Lab) ip(args ...string) error { return l.run("ip", args...) }

func (l *Lab) ipAll(steps [][]string) error {
	for _, s := range steps {
		if err := l.ip(s...); err != nil {
			return err
		}
	}
	return nil
}

// run runs a command to completion, bounded by cmdTimeout.
func (l *Lab) run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	l.log.Debug("netlab: "+name, "args", strings.Join(args, " "), "err", err)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w: %s", ErrCommand, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Command returns a command that runs name with args inside n, through
// ip netns exec (which execs it: the process's id is the program's). It
// is killed if the thread that starts it ends (Pdeathsig: in Go, when the
// process dies), and by Lab.Close if still running then.
func (n *NS) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Do runs f on an OS thread inside n: sockets f opens belong to n, and
// stay there after f returns. Goroutines f starts run outside n.
func (n *NS) Do(f func() error) error {
	if n.lab.isClosed() {
		return ErrClosed
	}
	errc := make(chan error, 1)
	go func() {
		// The thread goes back to its own namespace afterwards rather
		// than being thrown away: a child process started with
		// Pdeathsig (Command) from a thread is killed when that thread
		// ends. Only when it cannot go back does it stay locked, which
		// ends it with the goroutine.
		runtime.LockOSThread()
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: open own namespace: %w", err)
			return
		}
		defer unix.Close(home)
		fd, err := unix.Open("/run/netns/"+n.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: open namespace %s: %w", n.Name, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: enter namespace %s: %w", n.Name, err)
			return
		}
		err = f()
		if unix.Setns(home, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// sysctl sets /proc/sys/key in n.
func (n *NS) sysctl(key, value string) error {
	return n.Do(func() error { return os.WriteFile("/proc/sys/"+key, []byte(value), 0) })
}

func (n *NS) iptables(args ...string) error {
	return n.lab.run("ip", append([]string{"netns", "exec", n.Name, "iptables", "-w", "5"}, args...)...)
}

// killAll kills what still runs in n: only processes the lab's users
// started there.
func (n *NS) killAll() {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", n.Name).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			n.lab.log.Debug("netlab: killing a process left in the namespace", "ns", n.Name, "pid", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeStale deletes the namespaces named with prefix by processes that
// no longer run (a test that crashed before its cleanup).
func removeStale(prefix string, log *slog.Logger) {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(\d+)-\d+-[a-z0-9]+$`)
	for _, e := range ents {
		m := re.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		log.Info("netlab: removing a namespace left by an earlier run", "ns", e.Name())
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		_ = exec.CommandContext(ctx, "ip", "netns", "del", e.Name()).Run()
		cancel()
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Faults. Each applies to one LAN until ClearFaults.

// BlockUDP makes the router drop all UDP between the LAN and the outside.
func (lan *LAN) BlockUDP() error {
	return lan.Router.iptables("-A", "faults", "-p", "udp", "-j", "DROP")
}

// BlockTCPPort makes the router refuse TCP from the LAN to port, as a
// firewall that rejects does: the connection is reset at once. (One that
// drops in silence leaves the connect to time out, after about two
// minutes on Linux, and pion's TURN-over-TCP gathering, whose connect
// has no timeout of its own, holds the peer connection's Close that
// long.)
func (lan *LAN) BlockTCPPort(port int) error {
	if port <= 0 || port > 65535 {
		return fmt.Errorf("%w: port %d", ErrConfig, port)
	}
	return lan.Router.iptables("-A", "faults", "-p", "tcp", "--dport", strconv.Itoa(port), "-j", "REJECT", "--reject-with", "tcp-reset")
}

// Loss makes the router drop a share p (0 < p < 1) of the packets it
// forwards, picked at random, in each direction. Dropped counts them.
func (lan *LAN) Loss(p float64) error {
	if !(p > 0 && p < 1) {
		return fmt.Errorf("%w: loss %v: want 0 < p < 1", ErrConfig, p)
	}
	// A rule for each direction, so that each counts its own drops.
	for _, in := range []string{"lan0", "wan0"} {
		if err := lan.Router.iptables("-A", "faults", "-i", in, "-m", "statistic", "--mode", "random",
			"--probability", strconv.FormatFloat(p, 'f', 4, 64), "-j", "DROP"); err != nil {
			return err
		}
	}
	return nil
}

// Dropped returns how many packets Loss has made the router drop since
// the faults were last cleared: out of the LAN, and into it.
func (lan *LAN) Dropped() (out, in int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	// -S with counters: one "-A faults ... -c PACKETS BYTES" line a rule.
	b, err := exec.CommandContext(ctx, "ip", "netns", "exec", lan.Router.Name, "iptables", "-w", "5", "-S", "faults", "-v").Output()
	if err != nil {
		return 0, 0, fmt.Errorf("%w: iptables -S faults -v in %s: %w", ErrCommand, lan.Router.Name, err)
	}
	return parseDropped(string(b))
}

// parseDropped sums the packet counters of the loss rules in the output
// of iptables -S faults -v, by the interface they match.
func parseDropped(s string) (out, in int64, err error) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "-A" || !slices.Contains(f, "statistic") {
			continue
		}
		var iface string
		var pkts int64 = -1
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "-i":
				iface = f[i+1]
			case "-c":
				if pkts, err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
					return 0, 0, fmt.Errorf("%w: counter in %q: %w", ErrCommand, line, err)
				}
			}
		}
		if pkts < 0 {
			return 0, 0, fmt.Errorf("%w: no counter in %q", ErrCommand, line)
		}
		switch iface {
		case "lan0":
			out += pkts
		case "wan0":
			in += pkts
		}
	}
	return out, in, nil
}

// Cap limits what the LAN sends out to bitsPerSecond with a token bucket
// (tc tbf) on the router's public side, as a slow uplink does: what comes
// faster waits in a queue of up to queue (0 means 100 ms) and the rest is
// dropped.
func (lan *LAN) Cap(bitsPerSecond int, queue time.Duration) error {
	if bitsPerSecond < 8000 {
		return fmt.Errorf("%w: cap %d bit/s: want at least 8000", ErrConfig, bitsPerSecond)
	}
	if queue < 0 {
		return fmt.Errorf("%w: queue %v", ErrConfig, queue)
	}
	if queue == 0 {
		queue = 100 * time.Millisecond
	}
	burst := max(bitsPerSecond/8/100, 5000) // 10 ms of sending, at least a few packets
	return lan.lab.run("ip", "netns", "exec", lan.Router.Name, "tc", "qdisc", "replace", "dev", "wan0", "root", "tbf",
		"rate", strconv.Itoa(bitsPerSecond)+"bit", "burst", strconv.Itoa(burst), "latency", strconv.Itoa(int(queue/time.Millisecond))+"ms")
}

// Cut takes the host's link to its router down, as an unplugged cable
// or a lost Wi-Fi association does: the host's sends fail at once.
func (lan *LAN) Cut() error {
	return lan.lab.ip("-n", lan.Host.Name, "link", "set", "eth0", "down")
}

// Restore brings the host's link back up, with its default route.
func (lan *LAN) Restore() error {
	return lan.lab.ipAll([][]string{
		{"-n", lan.Host.Name, "link", "set", "eth0", "up"},
		{"-n", lan.Host.Name, "route", "replace", "default", "via", lan.GatewayIP.String()},
	})
}

// ClearFaults removes the blocks, loss and cap set on the LAN.
func (lan *LAN) ClearFaults() error {
	if err := lan.Router.iptables("-F", "faults"); err != nil {
		return err
	}
	// No cap set is no error.
	_ = lan.lab.run("ip", "netns", "exec", lan.Router.Name, "tc", "qdisc", "del", "dev", "wan0", "root")
	return nil
}
