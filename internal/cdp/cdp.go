// Package cdp drives a headless Chromium over the Chrome DevTools protocol
// on a pipe (--remote-debugging-pipe): no port, no extra dependency. A
// Browser evaluates script in its page, presses keys, and takes
// screenshots. The interop tests and the demo's self-check use it.
package cdp

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultPath is where Debian and Ubuntu install Chromium.
const DefaultPath = "/usr/bin/chromium"

// HeadlessArgs are the switches that run Chromium headless, with no
// sandbox, GPU, QUIC, first-run page or background traffic.
var HeadlessArgs = []string{
	"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking", "--disable-component-update",
	"--disable-sync",
}

// FakeMediaArgs give the page a fake camera and microphone that need no
// permission prompt.
var FakeMediaArgs = []string{"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"}

// Config says how to start the browser.
type Config struct {
	// Path is the Chromium binary; empty means DefaultPath.
	Path string
	// Args are the command-line switches (HeadlessArgs and more). Launch
	// adds --remote-debugging-pipe and, unless Args has one, a fresh
	// --user-data-dir that Close removes.
	Args []string
	// URL is the page to open.
	URL string
	// Width and Height, when set, fix the page's viewport.
	Width, Height int
	// Timeout bounds the start (waiting for the page); 0 means 30 s.
	Timeout time.Duration
}

// Browser is a running Chromium attached to its page.
type Browser struct {
	cmd     *exec.Cmd
	w       io.WriteCloser // Chromium reads commands here (its fd 3)
	session string         // the page target's flat session
	dataDir string         // removed by Close when not empty

	mu      sync.Mutex
	nextID  int
	pending map[int]chan reply
	readErr error
	done    chan struct{} // the reader ended

	outMu sync.Mutex
	out   strings.Builder

	once     sync.Once
	closeErr error
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ErrNoBrowser is returned by Launch when there is no Chromium binary.
var ErrNoBrowser = errors.New("no Chromium")

// Launch starts Chromium on cfg.URL and attaches to its page.
func Launch(cfg Config) (*Browser, error) {
	bin := cfg.Path
	if bin == "" {
		bin = DefaultPath
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%w at %s (Debian: apt-get install chromium): %v", ErrNoBrowser, bin, err)
	}
	b := &Browser{pending: map[int]chan reply{}, done: make(chan struct{})}
	args := append([]string(nil), cfg.Args...)
	hasDir := false
	for _, a := range args {
		if strings.HasPrefix(a, "--user-data-dir=") {
			hasDir = true
		}
	}
	if !hasDir {
		dir, err := os.MkdirTemp("", "avlink-chromium-")
		if err != nil {
			return nil, err
		}
		b.dataDir = dir
		args = append(args, "--user-data-dir="+dir)
	}
	args = append(args, "--remote-debugging-pipe", cfg.URL)

	cmdR, cmdW, err := os.Pipe() // commands: we write, Chromium reads on fd 3
	if err != nil {
		b.removeDir()
		return nil, err
	}
	resR, resW, err := os.Pipe() // replies: Chromium writes on fd 4, we read
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		b.removeDir()
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.ExtraFiles = []*os.File{cmdR, resW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout = &lockedWriter{mu: &b.outMu, w: &b.out}
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = 5 * time.Second
	b.cmd, b.w = cmd, cmdW
	err = cmd.Start()
	// Chromium holds its own copies now.
	cmdR.Close()
	resW.Close()
	if err != nil {
		cmdW.Close()
		resR.Close()
		b.removeDir()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go b.read(resR)

	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.attach(ctx, cfg); err != nil {
		b.Close()
		return nil, fmt.Errorf("chromium: %w; its output:\n%s", err, tail(b.Output(), 2000))
	}
	return b, nil
}

// attach finds the page target and attaches to it.
func (b *Browser) attach(ctx context.Context, cfg Config) error {
	var targets struct {
		TargetInfos []struct {
			TargetID string `json:"targetId"`
			Type     string `json:"type"`
		} `json:"targetInfos"`
	}
	for {
		if err := b.Call(ctx, "", "Target.getTargets", nil, &targets); err != nil {
			return err
		}
		id := ""
		for _, ti := range targets.TargetInfos {
			if ti.Type == "page" {
				id = ti.TargetID
			}
		}
		if id != "" {
			var att struct {
				SessionID string `json:"sessionId"`
			}
			if err := b.Call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": id, "flatten": true}, &att); err != nil {
				return err
			}
			b.session = att.SessionID
			if cfg.Width > 0 && cfg.Height > 0 {
				return b.Call(ctx, b.session, "Emulation.setDeviceMetricsOverride",
					map[string]any{"width": cfg.Width, "height": cfg.Height, "deviceScaleFactor": 1, "mobile": false}, nil)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("Chromium opened no page")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// read dispatches Chromium's replies; events are not needed.
func (b *Browser) read(r io.ReadCloser) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			ID int `json:"id"`
			reply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// Call sends one command to session ("" for the browser itself) and
// waits for its reply, decoded into result when not nil.
func (b *Browser) Call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return fmt.Errorf("browser gone: %w", b.readErr)
	}
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.w.Write(append(data, 0)); err != nil {
		return err
	}
	select {
	case rep, ok := <-ch:
		if !ok {
			return errors.New("browser gone")
		}
		if rep.Error != nil {
			return fmt.Errorf("%s: %s", method, rep.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(rep.Result, result)
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Page sends a command to the page, waiting up to 20 s for its reply.
func (b *Browser) Page(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return b.Call(ctx, b.session, method, params, result)
}

// Eval evaluates expr in the page (awaiting a promise, as if the user had
// clicked) and decodes its JSON value into out when not nil.
func (b *Browser) Eval(expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := b.Page("Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true, "userGesture": true,
	}, &res)
	if err != nil {
		return err
	}
	if res.Exception != nil {
		return fmt.Errorf("%s: %s %s", expr, res.Exception.Text, res.Exception.Exception.Description)
	}
	if out != nil && len(res.Result.Value) > 0 {
		return json.Unmarshal(res.Result.Value, out)
	}
	return nil
}

// Key presses ("keyDown") or releases ("keyUp") a key, as a keyboard
// does: key and code as in a KeyboardEvent, keyCode its virtual key code.
func (b *Browser) Key(typ, key, code string, keyCode int) error {
	return b.Page("Input.dispatchKeyEvent", map[string]any{
		"type": typ, "key": key, "code": code, "windowsVirtualKeyCode": keyCode, "nativeVirtualKeyCode": keyCode,
	}, nil)
}

// Screenshot returns a PNG of the page as it is shown.
func (b *Browser) Screenshot() ([]byte, error) {
	var res struct {
		Data string `json:"data"`
	}
	if err := b.Page("Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.Data)
}

// Output returns what Chromium has printed so far.
func (b *Browser) Output() string {
	b.outMu.Lock()
	defer b.outMu.Unlock()
	return b.out.String()
}

// Close kills the browser's process group, waits for it and the reader,
// and removes the user data directory Launch made. It may be called more
// than once.
func (b *Browser) Close() error {
	b.once.Do(func() {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		_ = b.cmd.Wait()
		b.w.Close()
		<-b.done
		b.closeErr = b.removeDir()
	})
	return b.closeErr
}

func (b *Browser) removeDir() error {
	if b.dataDir == "" {
		return nil
	}
	return os.RemoveAll(b.dataDir)
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
