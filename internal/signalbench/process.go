package signalbench

import (
	"context"
)

// Process is a signaling server running as its own process on a free
// loopback port: examples/signal-server as users run it, or the original
// deployment's Node.js server. Other benchmarks use it to measure through
// either.
type Process struct {
	b *binaries
	s *serverProc
}

// StartProcess builds (KindGo, from the module root repo) or installs
// (KindNode, with npm) a server of kind k and starts it.
func StartProcess(ctx context.Context, repo string, k Kind) (*Process, error) {
	b, err := prepare(ctx, repo, "", []Kind{k})
	if err != nil {
		return nil, err
	}
	s, err := startServer(ctx, b, k, 64)
	if err != nil {
		b.cleanup()
		return nil, err
	}
	return &Process{b: b, s: s}, nil
}

// URL is the ws:// URL clients dial.
func (p *Process) URL() string { return p.s.wsURL() }

// PID is the server's process id.
func (p *Process) PID() int { return p.s.pid }

// Close stops the server and removes what StartProcess built.
func (p *Process) Close() {
	p.s.stop()
	p.b.cleanup()
}
