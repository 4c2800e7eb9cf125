package browserbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildPrograms builds examples/signal-server and examples/sender of the
// module at repo into dir.
func buildPrograms(ctx context.Context, repo, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./examples/signal-server", "./examples/sender")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("browserbench: go build the examples: %w: %s", err, out)
	}
	return nil
}

// process is a running program whose output is kept (the last 64 KiB)
// and copied to a log.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error

	mu   sync.Mutex
	out  strings.Builder
	more chan struct{} // closed and replaced on each line
}

// startProcess starts name (for messages) as bin with args; its stdout
// and stderr lines go to logTo prefixed with name.
func startProcess(name, bin string, args []string, dir string, logTo io.Writer) (*process, error) {
	p := &process{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{}), more: make(chan struct{})}
	p.cmd.Dir = dir
	// Its own process group, so stop reaches its children; killed with
	// this process if that dies first.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	err = p.cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("browserbench: start %s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintf(logTo, "%s: %s\n", name, line)
			p.mu.Lock()
			if p.out.Len() > 64<<10 {
				s := p.out.String()
				p.out.Reset()
				p.out.WriteString(s[len(s)-32<<10:])
			}
			p.out.WriteString(line + "\n")
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		r.Close()
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// output returns what the program printed (its last 64 KiB).
func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitOutput waits up to d for the output to match re and returns the
// first match's groups.
func (p *process) waitOutput(ctx context.Context, d time.Duration, re string) ([]string, error) {
	rx := regexp.MustCompile(re)
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		p.mu.Lock()
		m := rx.FindStringSubmatch(p.out.String())
		more := p.more
		p.mu.Unlock()
		if m != nil {
			return m, nil
		}
		select {
		case <-more:
		case <-p.done:
			return nil, fmt.Errorf("browserbench: %s exited (%v) without printing %q:\n%s", p.name, p.err, re, tail(p.output(), 3000))
		case <-t.C:
			return nil, fmt.Errorf("%w: %s did not print %q within %v:\n%s", ErrTimeout, p.name, re, d, tail(p.output(), 3000))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// stop sends SIGTERM to the program's group, then SIGKILL after 5 s, and
// waits for it.
func (p *process) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
