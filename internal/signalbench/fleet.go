package signalbench

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Fleet is one multi-server throughput run: Instances Go servers, the N
// clients spread evenly over them, all in one room. With more than one
// instance the servers share the room over one NATS server; one instance
// keeps it in process, as by default.
type Fleet struct {
	Instances, N int
	// Delivered is load messages received per second. PerCPUSecond is
	// the deliveries per CPU-second of the signaling servers together,
	// PerCPUSecondNATS of the signaling servers and the NATS server.
	Delivered, PerCPUSecond, PerCPUSecondNATS float64
	// ServerCPU, NATSCPU and ClientCPU are the share of one core the
	// signaling servers together, the NATS server and the load generator
	// used.
	ServerCPU, NATSCPU, ClientCPU float64
	// Dropped counts connections that ended before the run closed them.
	Dropped int
	// ServerDrops is messages the servers dropped for full queues.
	ServerDrops float64
}

// FleetPaced is a paced-latency run over Instances servers.
type FleetPaced struct {
	Instances int
	Paced
}

// share is how many of n clients go to server i of k: n/k, and one more
// for the first n%k servers.
func share(n, k, i int) int {
	s := n / k
	if i < n%k {
		s++
	}
	return s
}

// buildNATS builds nats-server from the module's own dependency into
// b's directory.
func buildNATS(ctx context.Context, repo string, b *binaries) error {
	b.natsServer = filepath.Join(b.dir, "nats-server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", b.natsServer, "github.com/nats-io/nats-server/v2")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: go build nats-server: %w: %s", ErrServerStart, err, out)
	}
	return nil
}

// startNATS runs a NATS server on a free loopback port and returns it
// and its client URL. Its serverProc's addr is its monitoring port,
// which answers the readiness check.
func startNATS(ctx context.Context, b *binaries) (*serverProc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	mport, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(b.natsServer, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(mport))
	logf, err := os.CreateTemp(b.dir, "nats-*.log")
	if err != nil {
		return nil, "", err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, "", fmt.Errorf("%w: nats-server: %w", ErrServerStart, err)
	}
	s := newServerProc("nats", cmd, net.JoinHostPort("127.0.0.1", strconv.Itoa(mport)), logf)
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		s.stop()
		return nil, "", err
	}
	return s, "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// fleetUp is a running fleet: its signaling servers and, with more than
// one, the NATS server they share.
type fleetUp struct {
	servers []*serverProc
	nats    *serverProc
}

func startFleet(ctx context.Context, cfg Config, b *binaries, instances, peers int) (*fleetUp, error) {
	f := &fleetUp{}
	var extra []string
	if instances > 1 {
		ns, url, err := startNATS(ctx, b)
		if err != nil {
			return nil, err
		}
		f.nats = ns
		extra = []string{"-nats", url}
	}
	for range instances {
		s, err := startServer(ctx, b, KindGo, peers, extra...)
		if err != nil {
			f.stop()
			return nil, err
		}
		f.servers = append(f.servers, s)
	}
	cfg.Logger.Info("signalbench: fleet up", "instances", instances, "nats", f.nats != nil)
	return f, nil
}

func (f *fleetUp) stop() {
	for _, s := range f.servers {
		s.stop()
	}
	if f.nats != nil {
		f.nats.stop()
	}
}

func (f *fleetUp) urls() []string {
	var out []string
	for _, s := range f.servers {
		out = append(out, s.wsURL())
	}
	return out
}

// check reports a server of the fleet that died.
func (f *fleetUp) check() error {
	for _, s := range append(f.servers, f.nats) {
		if s != nil && !s.alive() {
			return fmt.Errorf("signalbench: %s server died (log %s)", s.kind, s.log.Name())
		}
	}
	return nil
}

// measureFleet runs the throughput phase over instances servers.
func measureFleet(ctx context.Context, cfg Config, b *binaries, instances, n int) (Fleet, error) {
	nan := math.NaN()
	res := Fleet{Instances: instances, N: n, Delivered: nan, PerCPUSecond: nan, PerCPUSecondNATS: nan,
		ServerCPU: nan, NATSCPU: nan, ClientCPU: nan, ServerDrops: nan}
	f, err := startFleet(ctx, cfg, b, instances, n)
	if err != nil {
		return res, err
	}
	defer f.stop()
	l := newLoad()
	var cs []*client
	defer func() { closeAll(l, cs) }()
	for i, s := range f.servers {
		some, err := dialClients(ctx, l, s.wsURL(), share(n, instances, i), 32)
		cs = append(cs, some...)
		if err != nil {
			return res, err
		}
	}
	if err := joinAll(ctx, cs, func(int) string { return "load" }); err != nil {
		return res, err
	}
	quiesce(l)
	var pids []int
	for _, s := range f.servers {
		pids = append(pids, s.pid)
	}
	if f.nats != nil {
		pids = append(pids, f.nats.pid)
	}
	fig, err := blastFor(cfg, l, cs, pids)
	if err != nil {
		return res, err
	}
	var servers float64
	for _, c := range fig.cpu[:instances] {
		servers += c
	}
	natsCPU := 0.0
	if f.nats != nil {
		natsCPU = fig.cpu[instances]
	}
	res.Delivered = fig.delivered / fig.wall
	res.PerCPUSecond = fig.delivered / servers
	res.PerCPUSecondNATS = fig.delivered / (servers + natsCPU)
	res.ServerCPU, res.NATSCPU, res.ClientCPU = servers/fig.wall, natsCPU/fig.wall, fig.self/fig.wall
	res.ServerDrops = 0
	for _, s := range f.servers {
		m, err := s.goMetrics()
		if err != nil {
			return res, err
		}
		res.ServerDrops += m["avlink_signal_drops_total"]
	}
	res.Dropped = n - len(cs) + int(l.dropped.Load())
	return res, f.check()
}

// pacedFleet runs the paced phase over instances servers.
func pacedFleet(ctx context.Context, cfg Config, b *binaries, instances int) (FleetPaced, error) {
	fp := FleetPaced{Instances: instances, Paced: Paced{Kind: KindGo, Clients: cfg.PacedClients}}
	f, err := startFleet(ctx, cfg, b, instances, cfg.PacedClients)
	if err != nil {
		return fp, err
	}
	defer f.stop()
	fp.Paced, err = pacedOn(ctx, cfg, KindGo, f.urls())
	if err != nil {
		return fp, err
	}
	return fp, f.check()
}

// runFleet measures cfg.Instances: paced first, on a quiet machine, then
// throughput at each count up to LoadMax.
func runFleet(ctx context.Context, cfg Config, rep *Report) error {
	for _, k := range cfg.Instances {
		if k < 1 {
			return fmt.Errorf("%w: %d instances", ErrConfig, k)
		}
		for _, n := range append(cfg.Counts, max(cfg.PacedClients, 0)) {
			if n > 0 && n < 2*k {
				return fmt.Errorf("%w: %d clients over %d servers: want at least 2 per server", ErrConfig, n, k)
			}
		}
	}
	b, err := prepare(ctx, cfg.Repo, cfg.GoServer, []Kind{KindGo})
	if err != nil {
		return err
	}
	defer b.cleanup()
	if err := buildNATS(ctx, cfg.Repo, b); err != nil {
		return err
	}
	for run := range cfg.Runs {
		if cfg.PacedClients > 0 {
			settle()
			for _, k := range cfg.Instances {
				cfg.Logger.Info("signalbench: paced", "run", run+1, "instances", k, "clients", cfg.PacedClients)
				p, err := pacedFleet(ctx, cfg, b, k)
				if err != nil {
					return fmt.Errorf("%d servers paced: %w", k, err)
				}
				cfg.Logger.Info("signalbench: paced result", "result", fmt.Sprintf("%+v", p))
				rep.FleetPaced = append(rep.FleetPaced, p)
			}
		}
		for _, n := range cfg.Counts {
			if n > cfg.LoadMax {
				continue
			}
			for _, k := range cfg.Instances {
				if err := ctx.Err(); err != nil {
					return err
				}
				cfg.Logger.Info("signalbench: measuring", "run", run+1, "instances", k, "n", n)
				r, err := measureFleet(ctx, cfg, b, k, n)
				if err != nil {
					return fmt.Errorf("%d servers N=%d: %w", k, n, err)
				}
				cfg.Logger.Info("signalbench: measured", "result", fmt.Sprintf("%+v", r))
				rep.Fleet = append(rep.Fleet, r)
			}
		}
	}
	return nil
}
