package signalbench

import (
	"context"
	"errors"
	"fmt"
	"github.com/avlink/avlink/internal/procstat"
	"math"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Result is one server at one connection count in one run. Figures not
// measured are NaN.
type Result struct {
	Kind Kind
	N    int
	// Held is how many connections were open at the end of the idle
	// phases.
	Held int
	// IdleRSS and JoinedRSS are the server's resident set growth per
	// connection in bytes, with every connection open and idle, before
	// and after joining rooms. The Node server keeps no rooms, so it has
	// no joined figure.
	IdleRSS, JoinedRSS float64
	// IdleHeap and JoinedHeap are the Go server's heap in use
	// (go_memstats_heap_inuse_bytes) per connection; Goroutines is its
	// goroutines per connection when idle and joined.
	IdleHeap, JoinedHeap, Goroutines float64
	// Rooms is how many rooms the joined phase used.
	Rooms int
	// Delivered is load messages received per second during the
	// throughput phase, PerCPUSecond the deliveries per second of server
	// CPU, ServerCPU and ClientCPU the share of one core each process
	// used then.
	Delivered, PerCPUSecond, ServerCPU, ClientCPU float64
	// Dropped counts connections that ended before the run closed them.
	Dropped int
	// ServerDrops is messages the Go server dropped for full queues.
	ServerDrops float64
}

// Paced is one paced-latency run.
type Paced struct {
	Kind     Kind
	Clients  int
	Samples  int
	P50, P99 time.Duration
	Max      time.Duration
	Dropped  int
}

// Report holds every run.
type Report struct {
	Config  Config
	Results []Result
	Paced   []Paced
	// FileLimit is the open-file limit the servers ran with.
	FileLimit uint64
	// Fleet and FleetPaced are the runs of Config.Instances.
	Fleet      []Fleet
	FleetPaced []FleetPaced
}

// Run measures every server of cfg at every count, cfg.Runs times.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	need := uint64(slices.Max(cfg.Counts)) + 1024 // each process holds one end of each connection
	limit, err := raiseFileLimit(need)
	if err != nil {
		return nil, fmt.Errorf("signalbench: open-file limit %d, need %d: %w", limit, need, err)
	}
	if len(cfg.Instances) > 0 {
		rep := &Report{Config: cfg, FileLimit: limit}
		return rep, runFleet(ctx, cfg, rep)
	}
	cfg.Logger.Info("signalbench: preparing servers", "servers", cfg.Servers)
	bins, err := prepare(ctx, cfg.Repo, cfg.GoServer, cfg.Servers)
	if err != nil {
		return nil, err
	}
	defer bins.cleanup()

	rep := &Report{Config: cfg, FileLimit: limit}
	for run := range cfg.Runs {
		// Latency first, on a quiet machine: after the larger counts the
		// kernel is still tearing down thousands of sockets and the load
		// generator's heap is large, which would be measured too.
		if cfg.PacedClients > 0 {
			settle()
			for _, k := range cfg.Servers {
				cfg.Logger.Info("signalbench: paced", "run", run+1, "server", k, "clients", cfg.PacedClients)
				p, err := paced(ctx, cfg, bins, k)
				if err != nil {
					return rep, fmt.Errorf("%s paced: %w", k, err)
				}
				cfg.Logger.Info("signalbench: paced result", "result", fmt.Sprintf("%+v", p))
				rep.Paced = append(rep.Paced, p)
			}
		}
		for _, n := range cfg.Counts {
			for _, k := range cfg.Servers {
				if err := ctx.Err(); err != nil {
					return rep, err
				}
				cfg.Logger.Info("signalbench: measuring", "run", run+1, "server", k, "n", n)
				r, err := measure(ctx, cfg, bins, k, n)
				if err != nil {
					return rep, fmt.Errorf("%s N=%d: %w", k, n, err)
				}
				cfg.Logger.Info("signalbench: measured", "result", fmt.Sprintf("%+v", r))
				rep.Results = append(rep.Results, r)
			}
		}
	}
	return rep, nil
}

// settle returns the load generator's spare memory to the system and
// waits for the kernel to finish closing earlier connections.
func settle() {
	debug.FreeOSMemory()
	time.Sleep(2 * time.Second)
}

// snapshot is what a phase reads from the server process.
type snapshot struct {
	rss        int64
	heap       float64
	goroutines float64
}

func (s *serverProc) snapshot() (snapshot, error) {
	mem, err := procstat.ReadMemory(s.pid)
	rss := mem.RSS
	if err != nil {
		return snapshot{}, err
	}
	sn := snapshot{rss: rss, heap: math.NaN(), goroutines: math.NaN()}
	if s.kind == KindGo {
		m, err := s.goMetrics()
		if err != nil {
			return snapshot{}, err
		}
		sn.heap, sn.goroutines = m["go_memstats_heap_inuse_bytes"], m["go_goroutines"]
		if sn.goroutines == 0 {
			return snapshot{}, errors.New("signalbench: the Go server's /metrics has no Go runtime metrics")
		}
	}
	return sn, nil
}

func measure(ctx context.Context, cfg Config, bins *binaries, k Kind, n int) (Result, error) {
	nan := math.NaN()
	res := Result{Kind: k, N: n, JoinedRSS: nan, IdleHeap: nan, JoinedHeap: nan, Goroutines: nan,
		Delivered: nan, PerCPUSecond: nan, ServerCPU: nan, ClientCPU: nan, ServerDrops: nan}
	srv, err := startServer(ctx, bins, k, n)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	cfg.Logger.Info("signalbench: server up", "server", k, "pid", srv.pid, "addr", srv.addr)
	time.Sleep(cfg.Settle / 4)
	base, err := srv.snapshot()
	if err != nil {
		return res, err
	}

	l := newLoad()
	cs, err := dialClients(ctx, l, srv.wsURL(), n, 32)
	if err != nil {
		return res, err
	}
	defer closeAll(l, cs)
	time.Sleep(cfg.Settle)
	idle, err := srv.snapshot()
	if err != nil {
		return res, err
	}
	res.IdleRSS = float64(idle.rss-base.rss) / float64(n)
	res.IdleHeap = (idle.heap - base.heap) / float64(n)

	if k == KindGo {
		res.Rooms = cfg.rooms(n)
		if err := joinAll(ctx, cs, func(i int) string { return "r" + strconv.Itoa(i%res.Rooms) }); err != nil {
			return res, err
		}
		cfg.Logger.Info("signalbench: joined", "rooms", res.Rooms)
		quiesce(l)
		time.Sleep(cfg.Settle)
		joined, err := srv.snapshot()
		if err != nil {
			return res, err
		}
		res.JoinedRSS = float64(joined.rss-base.rss) / float64(n)
		res.JoinedHeap = (joined.heap - base.heap) / float64(n)
		res.Goroutines = (joined.goroutines - base.goroutines) / float64(n)
	}
	res.Held = len(cs) - int(l.dropped.Load())

	if n <= cfg.LoadMax {
		if err := throughput(ctx, cfg, srv, l, cs, &res); err != nil {
			return res, err
		}
	}
	res.Dropped = n - len(cs) + int(l.dropped.Load())
	if !srv.alive() {
		return res, fmt.Errorf("signalbench: %s server died (log %s)", k, srv.log.Name())
	}
	return res, nil
}

// joinAll joins client i to room(i), 64 at a time.
func joinAll(ctx context.Context, cs []*client, room func(int) string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(cs))
	sem := make(chan struct{}, 64)
	for i, c := range cs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			errs[i] = c.join(jctx, room(i))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// quiesce waits until nothing has arrived for 300 ms, or 10 s.
func quiesce(l *load) {
	deadline := time.Now().Add(10 * time.Second)
	last := l.received.Load()
	for time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		now := l.received.Load()
		if now == last {
			return
		}
		last = now
	}
}

// throughput puts every client in one room and has each send as fast as
// the window allows.
func throughput(ctx context.Context, cfg Config, srv *serverProc, l *load, cs []*client, res *Result) error {
	if srv.kind == KindGo {
		// The Node server has no rooms: everyone already hears everyone.
		if err := joinAll(ctx, cs, func(int) string { return "load" }); err != nil {
			return err
		}
	}
	quiesce(l)
	f, err := blastFor(cfg, l, cs, []int{srv.pid})
	if err != nil {
		return err
	}
	cpu := f.cpu[0]
	res.Delivered = f.delivered / f.wall
	res.PerCPUSecond = f.delivered / cpu
	res.ServerCPU = cpu / f.wall
	res.ClientCPU = f.self / f.wall
	if srv.kind == KindGo {
		m, err := srv.goMetrics()
		if err != nil {
			return err
		}
		res.ServerDrops = m["avlink_signal_drops_total"]
	}
	return nil
}

// blastFigures is what one window-limited load phase measured: load
// messages delivered, wall seconds, CPU seconds of each server process
// and of this one.
type blastFigures struct {
	delivered, wall float64
	cpu             []float64
	self            float64
}

// blastFor has every client send as fast as the window allows, and
// measures for cfg.Duration after cfg.Warmup the deliveries and the CPU
// time of the processes pids and of this one.
func blastFor(cfg Config, l *load, cs []*client, pids []int) (blastFigures, error) {
	l.tokens = make(chan struct{}, cfg.Window)
	msg := candidateMessage(cfg.MessageBytes)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.window(cs, cfg.Window, stop) }()
	for _, c := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); c.blast(stop, msg) }()
	}
	cpus := func() ([]time.Duration, error) {
		out := make([]time.Duration, len(pids)+1)
		var errs []error
		for i, pid := range append(slices.Clone(pids), 0) {
			var err error
			out[i], err = cpuOf(pid)
			errs = append(errs, err)
		}
		return out, errors.Join(errs...)
	}
	time.Sleep(cfg.Warmup)
	d0, t0 := l.delivered.Load(), time.Now()
	c0, err0 := cpus()
	time.Sleep(cfg.Duration)
	d1, t1 := l.delivered.Load(), time.Now()
	c1, err1 := cpus()
	close(stop)
	wg.Wait()
	quiesce(l)
	if err := errors.Join(err0, err1); err != nil {
		return blastFigures{}, err
	}
	f := blastFigures{delivered: float64(d1 - d0), wall: t1.Sub(t0).Seconds()}
	for i := range pids {
		f.cpu = append(f.cpu, (c1[i] - c0[i]).Seconds())
	}
	f.self = (c1[len(pids)] - c0[len(pids)]).Seconds()
	return f, nil
}

// paced runs cfg.PacedClients clients in one room, each sending
// cfg.PacedRate stamped messages a second, and reads the latencies.
func paced(ctx context.Context, cfg Config, bins *binaries, k Kind) (Paced, error) {
	srv, err := startServer(ctx, bins, k, cfg.PacedClients)
	if err != nil {
		return Paced{Kind: k, Clients: cfg.PacedClients}, err
	}
	defer srv.stop()
	return pacedOn(ctx, cfg, k, []string{srv.wsURL()})
}

// pacedOn is paced on running servers of kind k, the clients spread
// evenly over urls. Its clients are rawConns read by one poller, so that
// the load generator adds as little as it can to each latency (see
// rawws.go).
func pacedOn(ctx context.Context, cfg Config, k Kind, urls []string) (Paced, error) {
	p := Paced{Kind: k, Clients: cfg.PacedClients}
	l := newLoad()
	var cs []*pacedConn
	for i, url := range urls {
		some, err := dialPaced(ctx, l, url, share(cfg.PacedClients, len(urls), i))
		cs = append(cs, some...)
		if err != nil {
			for _, c := range cs {
				_ = c.Close()
			}
			return p, err
		}
	}
	raws := make([]*rawConn, len(cs))
	for i, c := range cs {
		raws[i] = c.rawConn
	}
	poller, err := startRawPoller(raws, func(c *rawConn, err error) {
		if !l.closing.Load() {
			l.dropped.Add(1)
			cfg.Logger.Warn("signalbench: paced connection ended", "err", err)
		}
	})
	if err != nil {
		closeRaw(raws)
		return p, err
	}
	defer func() {
		l.closing.Store(true)
		poller.stop()
		closeRaw(raws)
	}()
	if k == KindGo {
		for _, c := range cs {
			if err := c.join(ctx, "paced"); err != nil {
				return p, err
			}
		}
	}
	quiesce(l)
	interval := time.Duration(float64(time.Second) / cfg.PacedRate)
	l.recordFrom.Store(l.now() + int64(cfg.Warmup))
	msg := candidateMessage(cfg.MessageBytes)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range cs {
		offset := interval * time.Duration(i) / time.Duration(len(cs))
		wg.Add(1)
		go func() { defer wg.Done(); c.pace(stop, msg, offset, interval) }()
	}
	time.Sleep(cfg.Warmup + cfg.PacedDuration)
	close(stop)
	wg.Wait()
	quiesce(l)
	l.closing.Store(true)
	poller.stop() // the latencies belong to the poller's goroutine until it stops
	var lat []time.Duration
	for _, c := range cs {
		lat = append(lat, c.lat...)
	}
	slices.Sort(lat)
	p.Samples = len(lat)
	if len(lat) > 0 {
		p.P50, p.P99, p.Max = percentile(lat, 0.50), percentile(lat, 0.99), lat[len(lat)-1]
	}
	p.Dropped = cfg.PacedClients - len(cs) + int(l.dropped.Load())
	return p, nil
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// cpuOf returns the user plus system CPU time of process pid (0: this one).
func cpuOf(pid int) (time.Duration, error) {
	st, err := procstat.ReadStat(pid)
	return st.CPU(), err
}
