package interop

import (
	"sync"
	"testing"

	"github.com/avlink/avlink/internal/cdp"
	"github.com/stretchr/testify/require"
)

// browser is a headless Chromium (internal/cdp) bound to a test: its
// helpers fail the test on errors.
type browser struct {
	t    *testing.T
	b    *cdp.Browser
	once sync.Once
}

// openBrowser starts Chromium on url with a fake microphone and camera
// that need no permission prompt, as the tests ask, and attaches
// to the page. extra are more command-line switches. It is stopped when
// the test ends; stop stops it earlier.
func openBrowser(t *testing.T, url string, extra ...string) *browser {
	t.Helper()
	bin := chromiumPath(t)
	args := append([]string(nil), cdp.HeadlessArgs...)
	args = append(args, "--disable-dev-shm-usage", "--mute-audio")
	args = append(args, cdp.FakeMediaArgs...)
	args = append(args,
		"--autoplay-policy=no-user-gesture-required",
		"--window-size=1280,800", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--user-data-dir="+t.TempDir(),
	)
	args = append(args, extra...)
	cb, err := cdp.Launch(cdp.Config{Path: bin, Args: args, URL: url, Width: 1280, Height: 720})
	require.NoError(t, err)
	b := &browser{t: t, b: cb}
	t.Cleanup(b.stop)
	return b
}

// page sends a command to the page.
func (b *browser) page(method string, params, result any) error {
	return b.b.Page(method, params, result)
}

// eval evaluates expr in the page (awaiting a promise, as if the user had
// clicked) and decodes its JSON value into out when not nil.
func (b *browser) eval(expr string, out any) error { return b.b.Eval(expr, out) }

// key presses (down) or releases (up) a key, as a keyboard does.
func (b *browser) key(typ, key, code string, keyCode int) {
	b.t.Helper()
	require.NoError(b.t, b.b.Key(typ, key, code, keyCode))
}

// screenshot returns a PNG of the page as it is shown.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	png, err := b.b.Screenshot()
	require.NoError(b.t, err)
	return png
}

// stop kills the browser and waits for it.
func (b *browser) stop() {
	b.once.Do(func() {
		_ = b.b.Close()
		if b.t.Failed() || verbose() {
			b.t.Logf("chromium output:\n%s", tail(b.b.Output(), 3000))
		}
	})
}
