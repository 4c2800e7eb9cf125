package v4l2

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Mode is what a [Camera] streams: its format, frame size and rate.
type Mode struct {
	Format        FourCC
	Width, Height int
	// FPS is the frame rate the driver was set to, or 0 when it takes no
	// rate setting and keeps its own.
	FPS float64
}

// String gives the mode as "YUYV 640x480@30".
func (m Mode) String() string {
	s := fmt.Sprintf("%v %dx%d", m.Format, m.Width, m.Height)
	if m.FPS > 0 {
		s += "@" + formatFPS(math.Round(m.FPS*100)/100)
	}
	return s
}

// choice is a mode with the exact frame interval to ask the driver for
// (zero when the driver lists none).
type choice struct {
	Mode
	ival v4l2Fract
}

// choose picks the mode to stream from what a node offers: a set size and
// rate must match; unset ones come as near 640x480 and 30 fps as offered;
// then the format comes first in cfg.Formats. cfg has its defaults.
func choose(path string, offers []offer, cfg Config) (choice, error) {
	prefs := cfg.Formats
	if prefs == nil {
		prefs = defaultFormats()
	}
	rank := func(f FourCC) (int, bool) {
		if f == JPEG && !slices.Contains(prefs, JPEG) {
			f = MJPEG // the same thing under another name
		}
		i := slices.Index(prefs, f)
		return i, i >= 0
	}
	wantW, wantH, wantFPS := cfg.Width, cfg.Height, cfg.FPS
	if wantW == 0 {
		wantW, wantH = 640, 480
	}
	if wantFPS == 0 {
		wantFPS = 30
	}
	type score struct {
		size int
		fps  float64
		rank int
	}
	less := func(a, b score) bool {
		if a.size != b.size {
			return a.size < b.size
		}
		if a.fps != b.fps {
			return a.fps < b.fps
		}
		return a.rank < b.rank
	}
	var best choice
	var bestScore score
	found, anyFormat := false, false
	for _, o := range offers {
		r, ok := rank(o.info.Format)
		if !ok {
			continue
		}
		anyFormat = true
		for _, s := range o.sizes {
			if cfg.Width != 0 && (s.w != cfg.Width || s.h != cfg.Height) {
				continue
			}
			for _, iv := range candidates(s, wantFPS) {
				fps := iv.fps()
				if cfg.FPS != 0 && iv.numerator != 0 && math.Round(fps) != float64(cfg.FPS) {
					continue
				}
				sc := score{size: abs(s.w-wantW) + abs(s.h-wantH), rank: r}
				if iv.numerator != 0 {
					sc.fps = math.Abs(fps - float64(wantFPS))
				}
				if !found || less(sc, bestScore) {
					best = choice{Mode: Mode{Format: o.info.Format, Width: s.w, Height: s.h, FPS: fps}, ival: iv}
					bestScore, found = sc, true
				}
			}
		}
	}
	if found {
		return best, nil
	}
	names := make([]string, len(prefs))
	for i, f := range prefs {
		names[i] = f.String()
	}
	offered := describeOffers(offers)
	switch {
	case len(offers) == 0:
		return choice{}, fmt.Errorf("%w: %s offers no formats", ErrFormat, path)
	case !anyFormat && cfg.Formats == nil:
		hint := ""
		if slices.ContainsFunc(offers, func(o offer) bool { return o.info.Format.Depth() }) {
			hint = "; for its depth, set Config.Formats to {Z16} (package capture/depth colourises it)"
		}
		return choice{}, fmt.Errorf("%w: %s offers no colour format this package converts (%s); it offers %s%s",
			ErrFormat, path, strings.Join(names, ", "), offered, hint)
	case !anyFormat:
		return choice{}, fmt.Errorf("%w: %s does not offer %s; it offers %s", ErrFormat, path, strings.Join(names, " or "), offered)
	}
	want := "any size"
	if cfg.Width != 0 {
		want = fmt.Sprintf("%dx%d", cfg.Width, cfg.Height)
	}
	if cfg.FPS != 0 {
		want += fmt.Sprintf(" at %d fps", cfg.FPS)
	}
	return choice{}, fmt.Errorf("%w: %s offers no %s in %s; it offers %s", ErrFormat, path, want, strings.Join(names, ", "), offered)
}

// candidates returns the intervals to consider at a size: the listed
// ones, the one nearest to fps within a range, or a zero interval when
// the driver lists none.
func candidates(s offerSize, fps int) []v4l2Fract {
	switch {
	case len(s.ivals) == 0:
		return []v4l2Fract{{}}
	case s.anyRate:
		fast, slow := s.ivals[0].fps(), s.ivals[1].fps()
		f := math.Min(math.Max(float64(fps), slow), fast)
		return []v4l2Fract{{numerator: 1000, denominator: uint32(math.Round(f * 1000))}}
	}
	return s.ivals
}

// describeOffers lists formats, sizes and rates on one line:
// "YUYV 640x480@30/15, 1280x720@15; Z16 848x480@90/30".
func describeOffers(offers []offer) string {
	parts := make([]string, 0, len(offers))
	for _, o := range offers {
		parts = append(parts, fmt.Sprintf("%v %s", o.info.Format, o.info.sizesString()))
	}
	return strings.Join(parts, "; ")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
