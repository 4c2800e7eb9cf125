package browserbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/avlink/avlink/internal/cdp"
)

// Path is one sender-to-page combination.
type Path string

// The four paths measured.
const (
	// RobotToPage is examples/sender into the viewer page.
	RobotToPage Path = "robot-page"
	// RobotToOriginal is examples/sender into the original page.
	RobotToOriginal Path = "robot-original"
	// AiortcToPage is the original Python aiortc robot into the viewer
	// page.
	AiortcToPage Path = "aiortc-page"
	// ChromiumToOriginal is a Chromium sender into the original page.
	ChromiumToOriginal Path = "chromium-original"
)

// Paths are all paths, in the order the table lists them.
var Paths = []Path{RobotToPage, RobotToOriginal, AiortcToPage, ChromiumToOriginal}

// Describe says what the path is, for the table.
func (p Path) Describe() string {
	switch p {
	case RobotToPage:
		return "our robot (examples/sender) → our page"
	case RobotToOriginal:
		return "our robot (examples/sender) → original page"
	case AiortcToPage:
		return "aiortc robot (original, Python) → our page"
	case ChromiumToOriginal:
		return "Chromium sender (fake camera) → original page"
	}
	return string(p)
}

// original reports whether the path's page is the original one.
func (p Path) original() bool { return p == RobotToOriginal || p == ChromiumToOriginal }

// ParsePaths reads a comma-separated list of path names ("all" for
// every path), keeping the order of Paths and dropping repeats.
func ParsePaths(s string) ([]Path, error) {
	want := map[Path]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f == "all" {
			for _, p := range Paths {
				want[p] = true
			}
			continue
		}
		ok := false
		for _, p := range Paths {
			if Path(f) == p {
				want[p], ok = true, true
			}
		}
		if !ok {
			return nil, fmt.Errorf("%w: unknown path %q (want one of %v or all)", ErrConfig, f, Paths)
		}
	}
	var out []Path
	for _, p := range Paths {
		if want[p] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no path in %q", ErrConfig, s)
	}
	return out, nil
}

// Config says where the pieces are and how long each run measures.
type Config struct {
	// Repo is the module root: the example programs are built there and
	// the original page and Python robot are read from its
	// internal/interop/testdata. Empty means the working directory.
	Repo string
	// Chromium is the browser binary; empty means $AVLINK_CHROMIUM or
	// cdp.DefaultPath.
	Chromium string
	// ChromiumArgs are more switches for every browser, after the
	// interop tests' own.
	ChromiumArgs []string
	// Python is a python3 with aiortc, av and numpy; empty means
	// $AVLINK_PYTHON or /usr/bin/python3 (Debian's python3-aiortc).
	Python string
	// Warmup is the time after the first picture before latency is
	// recorded; 0 means 1 s.
	Warmup time.Duration
	// Window is how long latency is recorded in each run; 0 means 10 s.
	Window time.Duration
	// Timeout bounds each stage of a run (a page joining, the first
	// picture); 0 means 30 s.
	Timeout time.Duration
	// ColdAudio leaves each receiving page's audio output to start with
	// its first call, as it does for a person opening the page. By
	// default the measuring script starts it when the page loads, before
	// the sender joins: the first call in a page otherwise waits for
	// Chromium's audio output to start, which in a headless container
	// with no sound card takes from half a second to seconds and would
	// hide every difference between senders in join to first frame.
	ColdAudio bool
	// Logger receives progress; nil means none.
	Logger *slog.Logger
	// LogTo, when not nil, receives the output of every program and
	// browser.
	LogTo io.Writer
}

func (c Config) withDefaults() (Config, error) {
	if c.Repo == "" {
		c.Repo = "."
	}
	if c.Chromium == "" {
		c.Chromium = os.Getenv("AVLINK_CHROMIUM")
	}
	if c.Chromium == "" {
		c.Chromium = cdp.DefaultPath
	}
	if c.Python == "" {
		c.Python = os.Getenv("AVLINK_PYTHON")
	}
	if c.Python == "" {
		c.Python = "/usr/bin/python3"
	}
	if c.Warmup == 0 {
		c.Warmup = time.Second
	}
	if c.Window == 0 {
		c.Window = 10 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Warmup < 0 || c.Window < 0 || c.Timeout < 0 {
		return c, fmt.Errorf("%w: negative duration", ErrConfig)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.LogTo == nil {
		c.LogTo = io.Discard
	}
	if _, err := os.Stat(c.Repo + "/go.mod"); err != nil {
		return c, fmt.Errorf("%w: %s is not the module root (no go.mod): %v", ErrConfig, c.Repo, err)
	}
	return c, nil
}

// Check reports what path p needs and is missing: Chromium for every
// path, and Python with aiortc for AiortcToPage. The error wraps
// ErrMissing and says how to install it.
func Check(ctx context.Context, cfg Config, p Path) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.Chromium); err != nil {
		return fmt.Errorf("%w: Chromium at %s (Debian: apt-get install chromium, or set AVLINK_CHROMIUM)", ErrMissing, cfg.Chromium)
	}
	if p == AiortcToPage {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := exec.CommandContext(ctx, cfg.Python, "-c", "import aiortc, av, numpy").Run(); err != nil {
			return fmt.Errorf("%w: Python with aiortc, av and numpy at %s: %v (Debian: apt-get install python3-aiortc, or set AVLINK_PYTHON)", ErrMissing, cfg.Python, err)
		}
	}
	return nil
}
