// Package browserbench measures video into headless Chromium, as a person
// watching the robot sees it, over the four paths the viewer page issue
// compares:
//
//   - [RobotToPage]: examples/sender (the stamped 640x480 test pattern and
//     a tone), built from the module and started as a user starts it,
//     through examples/signal-server into the viewer page that server
//     serves on GET /?room=...;
//   - [RobotToOriginal]: the same robot into the original deployment's
//     page (internal/interop/testdata/viewer.html), served beside the
//     signaling server with its WebSocket on "/" passed through to
//     examples/signal-server, as the interop tests serve it (without
//     their media=1, which takes the microphone first: neither page asks
//     for a device);
//   - [AiortcToPage]: the original deployment's Python aiortc robot
//     (internal/interop/testdata/sender.py, Debian's python3-aiortc) into
//     the viewer page;
//   - [ChromiumToOriginal]: a second headless Chromium, its own process,
//     sending its fake camera (getUserMedia) into the original page:
//     libwebrtc at both ends.
//
// Every receiving page gets the same measuring script, injected through
// the DevTools protocol before the page's own scripts run. At each
// requestVideoFrameCallback it reads the frame's capture stamp
// (capture/stamp: the capture time in Unix milliseconds, drawn into the
// top of the picture) and takes the time the picture is shown, as the
// viewer page does: capture-to-screen latency. All four sources carry the
// stamp: our robot and the aiortc robot draw it at capture; the Chromium
// sender draws it onto each fake-camera frame as the page receives that
// frame from the device (MediaStreamTrackProcessor, then
// MediaStreamTrackGenerator), before encoding, so
// its figure leaves out the time from the fake device's capture to the
// page. The script also keeps requestVideoFrameCallback's captureTime,
// which needs no stamp but which Chromium gives only when the sender
// tells it the capture time: of the four senders, only Chromium does, and
// for it the figure starts at the fake device's capture.
//
// Join to first frame: the page joins its room first and the robot
// second, as the aiortc robot requires (it offers once, right after
// joining); the figure runs from the robot's join, as the page sees it
// (the server's peer-joined message), to the time the first picture is
// shown. The same order is used on every path so the four compare. It is
// split at the offer reaching the page and the page's answer leaving it.
// The first call in a page waits for Chromium to start its audio output,
// which in a headless container with no sound card takes from half a
// second to seconds; by default the measuring script starts it when the
// page loads, before the sender joins (Config.ColdAudio leaves it to the
// call), so that the figure shows the call and not the container.
//
// Freeze to lockout (Bench.Lockout): examples/sender calls our page and
// is frozen (SIGSTOP) again and again, its video with it; the figure is
// the time from the last picture the page showed to the page turning
// driving off, on the page's clock.
//
// Command browserbench (cmd/browserbench) runs every path a number of
// times and prints a Markdown table, then the freeze to lockout figures.
package browserbench
