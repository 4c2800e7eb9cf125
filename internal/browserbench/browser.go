package browserbench

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/internal/cdp"
)

//go:embed probe.js
var probeTemplate string

//go:embed sender.html
var senderPage []byte

// probeScript is probe.js with the stamp reader inlined; warmAudio
// makes it start the page's audio output at once.
func probeScript(warmAudio bool) string {
	s := strings.Replace(probeTemplate, "/*STAMP_JS*/", string(stamp.JS()), 1)
	return strings.Replace(s, "/*WARM_AUDIO*/false", strconv.FormatBool(warmAudio), 1)
}

// browserArgs are the switches the interop tests start Chromium with:
// headless, a fake camera and microphone that need no prompt, autoplay,
// a fixed window.
func browserArgs(dataDir string) []string {
	args := append([]string(nil), cdp.HeadlessArgs...)
	args = append(args, "--disable-dev-shm-usage", "--mute-audio")
	args = append(args, cdp.FakeMediaArgs...)
	return append(args,
		"--autoplay-policy=no-user-gesture-required",
		"--window-size=1280,800", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--user-data-dir="+dataDir,
	)
}

// browser is one headless Chromium with one page.
type browser struct {
	b   *cdp.Browser
	dir string
}

// openBrowser starts Chromium on a blank page, adds script (when not
// empty) to run before the scripts of every document it loads, and opens
// url.
func openBrowser(bin string, extra []string, url, script string) (*browser, error) {
	dir, err := os.MkdirTemp("", "browserbench-chromium-")
	if err != nil {
		return nil, err
	}
	cb, err := cdp.Launch(cdp.Config{Path: bin, Args: append(browserArgs(dir), extra...), URL: "about:blank", Width: 1280, Height: 720})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b := &browser{b: cb, dir: dir}
	if script != "" {
		if err := cb.Page("Page.enable", nil, nil); err != nil {
			b.close()
			return nil, err
		}
		if err := cb.Page("Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": script}, nil); err != nil {
			b.close()
			return nil, fmt.Errorf("browserbench: inject the measuring script: %w", err)
		}
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := cb.Page("Page.navigate", map[string]any{"url": url}, &nav); err != nil || nav.ErrorText != "" {
		b.close()
		return nil, fmt.Errorf("browserbench: open %s: %v %s", url, err, nav.ErrorText)
	}
	return b, nil
}

// eval evaluates expr in the page and decodes its JSON value into out.
func (b *browser) eval(expr string, out any) error { return b.b.Eval(expr, out) }

// close kills the browser and removes its profile; it returns what the
// browser printed.
func (b *browser) close() string {
	_ = b.b.Close()
	os.RemoveAll(b.dir)
	return b.b.Output()
}
