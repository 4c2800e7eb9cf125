package interop

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
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// browser is a headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe): no port, no extra dependency. It
// evaluates script in the page, presses keys, and takes screenshots.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	w       io.WriteCloser // Chromium reads commands here (its fd 3)
	session string         // the page target's flat session

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpReply
	readErr error
	done    chan struct{} // the reader ended
	out     *strings.Builder
	outMu   sync.Mutex
	once    sync.Once
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// openBrowser starts Chromium on url with a fake microphone and camera
// that need no permission prompt, as the tests ask, and attaches
// to the page. extra are more command-line switches. It is stopped when
// the test ends; stop stops it earlier.
func openBrowser(t *testing.T, url string, extra ...string) *browser {
	t.Helper()
	bin := chromiumPath(t)
	args := []string{
		"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-dev-shm-usage", "--mute-audio",
		"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
		"--autoplay-policy=no-user-gesture-required",
		"--window-size=1280,800", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--user-data-dir=" + t.TempDir(),
		"--remote-debugging-pipe",
	}
	args = append(args, extra...)
	cmdR, cmdW, err := os.Pipe() // commands: we write, Chromium reads on fd 3
	require.NoError(t, err)
	resR, resW, err := os.Pipe() // replies: Chromium writes on fd 4, we read
	require.NoError(t, err)
	cmd := exec.Command(bin, append(args, url)...)
	cmd.ExtraFiles = []*os.File{cmdR, resW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b := &browser{t: t, cmd: cmd, w: cmdW, pending: map[int]chan cdpReply{}, done: make(chan struct{}), out: &strings.Builder{}}
	cmd.Stdout = &lockedWriter{mu: &b.outMu, w: b.out}
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start())
	// Chromium holds its own copies now.
	cmdR.Close()
	resW.Close()
	go b.read(resR)
	t.Cleanup(b.stop)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var targets struct {
		TargetInfos []struct {
			TargetID string `json:"targetId"`
			Type     string `json:"type"`
			URL      string `json:"url"`
		} `json:"targetInfos"`
	}
	for {
		require.NoError(t, b.call(ctx, "", "Target.getTargets", nil, &targets))
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
			require.NoError(t, b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": id, "flatten": true}, &att))
			b.session = att.SessionID
			require.NoError(t, b.call(ctx, b.session, "Emulation.setDeviceMetricsOverride",
				map[string]any{"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": false}, nil))
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("Chromium opened no page")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return b
}

// read dispatches Chromium's replies; events are not needed.
func (b *browser) read(r io.ReadCloser) {
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
			cdpReply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
}

// call sends one command and waits for its reply, decoded into result
// when not nil.
func (b *browser) call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return fmt.Errorf("browser gone: %w", b.readErr)
	}
	b.nextID++
	id := b.nextID
	ch := make(chan cdpReply, 1)
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

// page sends a command to the page.
func (b *browser) page(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return b.call(ctx, b.session, method, params, result)
}

// eval evaluates expr in the page (awaiting a promise, as if the user had
// clicked) and decodes its JSON value into out when not nil.
func (b *browser) eval(expr string, out any) error {
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
	err := b.page("Runtime.evaluate", map[string]any{
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

// key presses (down) or releases (up) a key, as a keyboard does.
func (b *browser) key(typ, key, code string, keyCode int) {
	b.t.Helper()
	require.NoError(b.t, b.page("Input.dispatchKeyEvent", map[string]any{
		"type": typ, "key": key, "code": code, "windowsVirtualKeyCode": keyCode, "nativeVirtualKeyCode": keyCode,
	}, nil))
}

// screenshot returns a PNG of the page as it is shown.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	require.NoError(b.t, b.page("Page.captureScreenshot", map[string]any{"format": "png"}, &res))
	png, err := base64.StdEncoding.DecodeString(res.Data)
	require.NoError(b.t, err)
	return png
}

// stop kills the browser's process group and waits for it and the
// reader.
func (b *browser) stop() { b.once.Do(b.kill) }

func (b *browser) kill() {
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	_ = b.cmd.Wait()
	b.w.Close()
	<-b.done
	if b.t.Failed() || verbose() {
		b.outMu.Lock()
		b.t.Logf("chromium output:\n%s", tail(b.out.String(), 3000))
		b.outMu.Unlock()
	}
}
