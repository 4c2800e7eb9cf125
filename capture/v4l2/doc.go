// Package v4l2 streams video from Linux cameras through V4L2, the
// kernel's own video interface, with no vendor SDK and no cgo: a
// RealSense's colour stream, a USB webcam, a capture card. A [Camera] is a
// capture.VideoSource, ready to give to rtclink.VideoSender.
//
//	cam, err := v4l2.Open("/dev/video4", v4l2.Config{}) // 640x480@30 in the cheapest format offered
//	...
//	sender := &rtclink.VideoSender{Source: cam, Encoder: enc}
//
// Open negotiates the mode from what the node offers (YUYV, MJPEG, NV12,
// RGB24 or BGR24, at the size and rate asked for or the nearest to
// 640x480@30), maps the driver's buffers and starts streaming. A goroutine
// of the Camera's takes each frame as it arrives and keeps only the newest,
// so latency never grows behind a slow reader; ReadVideo converts that
// frame to I420 with the capture package's converters, or decodes it with
// image/jpeg for MJPEG (inserting the standard Huffman tables that many UVC
// cameras leave out). Frames carry the driver's capture timestamp.
//
// Failures are errors, never hangs: ErrNoDevice for a missing node,
// ErrBusy when another program streams from it, ErrFormat naming what the
// camera does offer, ErrUnplugged when it goes away mid-stream, ErrStalled
// when it stops delivering. Close stops the stream and releases the node
// at once, even with a ReadVideo blocked.
//
// # RealSense
//
// A RealSense D400 appears as several nodes under one card name
// ("Intel(R) RealSense(TM) Depth Ca"): depth (Z16), infrared (GREY, Y8I)
// and colour (YUYV), each followed by a metadata node. [Find] with
// "RealSense" returns the colour node: the only one that offers a colour
// format. [FindDepth] returns the depth node; opened with Config.Formats
// {[Z16]} it streams depth frames (capture.FormatZ16, millimetres) for
// package capture/depth to colourise into a video track a person can
// watch. [List] shows every node with its card name, formats, sizes and
// rates. The original deployment's Python aiortc robot read the same
// colour stream (640x480 at 30 fps) through the vendor's SDK, which
// converted it to BGR; here the camera's own YUYV goes straight to I420.
//
// # Cost
//
// Per 640x480 frame on the project's 2-core machines (go test -bench . in
// this package): converting YUYV to I420 about 0.4 ms; decoding MJPEG
// with image/jpeg 3.3 ms for a smooth picture to 6–7 ms for a grainy,
// camera-like 4:2:2 one, 10–22% of a core at 30 fps. That is why the
// default prefers any uncompressed format the camera offers at the same
// size and rate.
//
// The package builds on every system; on those other than Linux, Open,
// List and Find return ErrNotSupported.
package v4l2
