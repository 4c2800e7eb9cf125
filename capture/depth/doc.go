// Package depth turns a depth camera's frames into colour video that any
// browser shows, so that a person watching a robot sees how far things
// are. A RealSense depth stream ([capture.FormatZ16], from capture/v4l2
// opened with Formats {v4l2.Z16}) goes through a [Colorizer], a
// capture.VideoSource that hands out I420 ready for a video encoder:
//
//	cam, err := v4l2.Open("/dev/video0", v4l2.Config{Width: 848, Height: 480, Formats: []v4l2.FourCC{v4l2.Z16}})
//	...
//	src, err := depth.NewColorizer(cam, depth.Config{}) // 0.3 m to 4 m
//	sender := &rtclink.VideoSender{Source: src, Encoder: enc}
//
// # Colour map
//
// Depths from Config.Near to Config.Far are spread linearly over a
// perceptual rainbow after Google's Turbo, near warm and far cool:
//
//	near   dark red (184,32,8) → red → orange → yellow (223,220,50)
//	       → green (78,249,131) → cyan (39,215,195) → blue (73,88,221)   far
//
// The map is Turbo from 0.9 down to 0.1, sampled every 0.05 (the 17 sRGB
// colours in [Palette]) and joined by straight lines in RGB; Turbo's
// darkest ends are left out so that no depth looks like missing data.
// Hue rises steadily from about 8° at Near to about 234° at Far, so the
// order of depths shows at a glance and survives a lossy encoder's
// smoothing; the ends are darker than the middle. Nearer than
// Near shows the Near colour and farther than Far the Far colour; a pixel
// of value 0, where the camera measured nothing, is black.
//
// # Cost
//
// [NewMap] precomputes a 65,536-entry table, one entry per possible Z16
// value, holding the pixel's Y and its U and V ready to be summed for 4:2:0
// chroma, so that a frame costs four table look-ups per 2×2 block and no
// arithmetic in floating point. Colourising a 640x480 frame takes about
// 0.5 ms and an 848x480 one about 0.7 ms on the project's 2-core machines
// (go test -bench . in this package): 2% of a core at 30 fps. The table
// is 256 KiB, built in about 2 ms once per Colorizer.
package depth
