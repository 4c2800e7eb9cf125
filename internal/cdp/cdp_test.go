package cdp

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// chromium returns the browser, or skips the test when there is none
// outside CI.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(DefaultPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Chromium at %s, and CI must run this test", DefaultPath)
		}
		t.Skipf("no Chromium at %s (Debian: apt-get install chromium)", DefaultPath)
	}
	return DefaultPath
}

func TestLaunchWithoutBrowser(t *testing.T) {
	_, err := Launch(Config{Path: "/nonexistent/chromium", Args: HeadlessArgs, URL: "about:blank"})
	require.ErrorIs(t, err, ErrNoBrowser)
	assert.Contains(t, err.Error(), "/nonexistent/chromium")
}

// A page is driven: script evaluated (a promise awaited, an exception
// reported), a key pressed as a keyboard does, a screenshot taken; Close
// removes the profile Launch made.
func TestBrowser(t *testing.T) {
	page := "data:text/html," + url.PathEscape(`<title>t</title><body style="background:#0f0">
<script>window.keys = []; addEventListener('keydown', (e) => keys.push(e.code));</script>`)
	b, err := Launch(Config{Path: chromium(t), Args: HeadlessArgs, URL: page, Width: 320, Height: 240})
	require.NoError(t, err)
	defer b.Close()
	require.NotEmpty(t, b.dataDir)
	_, err = os.Stat(b.dataDir)
	require.NoError(t, err)

	// The page may still be replacing the blank one it started with,
	// whose context then goes away under an evaluation: wait for it.
	var title string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b.Eval("document.title", &title) == nil && title == "t" {
			break
		}
	}
	require.Equal(t, "t", title, "the page did not load")
	var sum int
	require.NoError(t, b.Eval("new Promise((r) => setTimeout(() => r(1 + 2), 10))", &sum))
	assert.Equal(t, 3, sum)
	err = b.Eval("(() => { throw new Error('boom'); })()", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "boom")

	var ready bool
	require.NoError(t, b.Eval("Array.isArray(window.keys)", &ready))
	require.True(t, ready, "the page's script did not run")
	require.NoError(t, b.Key("keyDown", "ArrowUp", "ArrowUp", 38))
	require.NoError(t, b.Key("keyUp", "ArrowUp", "ArrowUp", 38))
	var keys []string
	require.NoError(t, b.Eval("window.keys", &keys))
	assert.Equal(t, []string{"ArrowUp"}, keys)

	png, err := b.Screenshot()
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "not a PNG")

	require.NoError(t, b.Close())
	_, err = os.Stat(b.dataDir)
	assert.True(t, errors.Is(err, os.ErrNotExist), "the profile was left behind: %v", err)
	assert.Error(t, b.Eval("1", nil), "a closed browser still answered")
	require.NoError(t, b.Close(), "a second Close")
}
