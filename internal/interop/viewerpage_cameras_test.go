package interop

import (
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// camerasState is the part of window.avlinkViewer.state() about the
// robot's cameras.
type camerasState struct {
	Cameras []struct {
		Name          string  `json:"name"`
		Large         bool    `json:"large"`
		Frames        int     `json:"frames"`
		FramesDecoded int     `json:"framesDecoded"`
		Width         int     `json:"width"`
		Height        int     `json:"height"`
		FPS           float64 `json:"fps"`
	} `json:"cameras"`
	Camera      string `json:"camera"`
	Connection  string `json:"connection"`
	FrameWidth  int    `json:"frameWidth"`
	FrameHeight int    `json:"frameHeight"`
	StampsRead  int    `json:"stampsRead"`
	Drive       string `json:"drive"`
	Lockout     struct {
		Locked bool   `json:"locked"`
		Reason string `json:"reason"`
	} `json:"lockout"`
	Teleop struct {
		Open bool `json:"open"`
	} `json:"teleop"`
}

// names lists the cameras' names in the page's order.
func (s camerasState) names() []string {
	var n []string
	for _, c := range s.Cameras {
		n = append(n, c.Name)
	}
	return n
}

// frames returns the pictures shown of the camera named name, -1 when
// there is no such camera.
func (s camerasState) frames(name string) int {
	for _, c := range s.Cameras {
		if c.Name == name {
			return c.Frames
		}
	}
	return -1
}

// cameras reads the page's state.
func (b *browser) cameras() camerasState {
	b.t.Helper()
	var st camerasState
	require.NoError(b.t, b.eval("window.avlinkViewer.state()", &st))
	return st
}

// waitCameras polls the page every 100 ms until cond holds, for up to d.
func (b *browser) waitCameras(d time.Duration, what string, cond func(camerasState) bool) camerasState {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var st camerasState
		err := b.eval("window.avlinkViewer ? window.avlinkViewer.state() : null", &st)
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page never showed %s (waited %v); last state: %+v; err %v", what, d, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tile is a camera tile as the page shows it.
type tile struct {
	Name    string `json:"name"`
	Pressed string `json:"pressed"`
	Width   int    `json:"width"`
}

// tiles reads the shown tiles, in order.
func (b *browser) tiles() []tile {
	b.t.Helper()
	var ts []tile
	require.NoError(b.t, b.eval(`[...document.querySelectorAll('#tiles .tile')].filter((t) => t.offsetParent !== null).map((t) => ({
		name: t.querySelector('.tile-name').textContent, pressed: t.getAttribute('aria-pressed'),
		width: t.querySelector('video').videoWidth}))`, &ts))
	return ts
}

// largeWidth is the width of the picture #video plays.
func (b *browser) largeWidth() int {
	b.t.Helper()
	var w int
	require.NoError(b.t, b.eval("document.getElementById('video').videoWidth", &w))
	return w
}

// camera is a named stamped test pattern of w x h whose frames the test
// can hold back.
func camera(t *testing.T, name string, w, h int) (*rtclink.VideoSender, *controlledSource) {
	t.Helper()
	v := videoSender(t, w, h)
	v.Name = name
	src := &controlledSource{VideoSource: v.Source, clock: capture.WallClock{}}
	v.Source = src
	return v, src
}

// twoCameras makes the robot send front as its Video and wrist in
// MoreVideo instead of its one 640x480 test pattern.
func twoCameras(front, wrist *rtclink.VideoSender) func(*rtclink.Config) {
	return func(c *rtclink.Config) {
		_ = c.Video.Source.Close()
		_ = c.Video.Encoder.Close()
		c.Video, c.MoreVideo = front, []*rtclink.VideoSender{wrist}
	}
}

// A robot with two named cameras (rtclink MoreVideo): the page shows a
// tile for each with its name, both moving, the first large; a click on
// the other tile makes it the large one, whose size, figures and stamps
// the page then shows; a camera the robot adds mid-call comes as a third
// tile.
func TestViewerPageCameras(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	front, _ := camera(t, "front", 320, 240)
	wrist, _ := camera(t, "wrist", 160, 120)
	robot := goRobot(t, srv, twoCameras(front, wrist))
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.eventsOnFailure()
	b.live(30 * time.Second)

	st := b.waitCameras(15*time.Second, "two cameras", func(s camerasState) bool { return len(s.Cameras) == 2 })
	assert.Equal(t, []string{"front", "wrist"}, st.names(), "the cameras are named by their tracks")
	assert.Equal(t, "front", st.Camera, "the first camera is the large one")
	assert.True(t, b.visible("tiles"), "two cameras: tiles")
	assert.True(t, b.visible("cam-name"))
	assert.Equal(t, "front", b.text("cam-name"))
	var trackIDs []string
	require.NoError(t, b.eval("[...document.querySelectorAll('#tiles video')].map((v) => v.srcObject.getVideoTracks()[0].id)", &trackIDs))
	t.Logf("the browser's ids of the remote tracks: %q", trackIDs)

	// Both move: each tile counts the pictures it shows.
	f0, w0 := st.frames("front"), st.frames("wrist")
	st = b.waitCameras(20*time.Second, "both cameras moving", func(s camerasState) bool {
		return s.frames("front") >= f0+20 && s.frames("wrist") >= w0+20
	})
	ts := b.tiles()
	require.Len(t, ts, 2)
	assert.Equal(t, tile{Name: "front", Pressed: "true", Width: 320}, ts[0])
	assert.Equal(t, tile{Name: "wrist", Pressed: "false", Width: 160}, ts[1])
	assert.Equal(t, 320, b.largeWidth(), "front plays large")
	st = b.waitCameras(10*time.Second, "the large camera's figures", func(s camerasState) bool {
		return s.FrameWidth == 320 && s.Cameras[1].Width == 160
	})
	assert.Equal(t, "320 × 240", b.text("s-size"))

	// A click on the wrist tile: the wrist camera plays large, and the
	// size, stamps and figures are its own.
	b.click(`#tiles .tile[data-name="wrist"]`)
	st = b.waitCameras(10*time.Second, "wrist large", func(s camerasState) bool { return s.Camera == "wrist" })
	assert.False(t, st.Cameras[0].Large)
	assert.True(t, st.Cameras[1].Large)
	eventually(t, 10*time.Second, func() bool { return b.largeWidth() == 160 }, "the large picture is not the wrist camera's 160x120")
	stamps := st.StampsRead
	st = b.waitCameras(10*time.Second, "the wrist camera's figures and stamps", func(s camerasState) bool {
		return s.FrameWidth == 160 && s.FrameHeight == 120 && s.StampsRead >= stamps+10
	})
	assert.Equal(t, "160 × 120", b.text("s-size"))
	assert.Equal(t, "wrist", b.text("cam-name"))
	ts = b.tiles()
	require.Len(t, ts, 2)
	assert.Equal(t, "false", ts[0].Pressed)
	assert.Equal(t, "true", ts[1].Pressed)
	f0 = st.frames("front")
	b.waitCameras(10*time.Second, "the front tile moving on", func(s camerasState) bool { return s.frames("front") >= f0+10 })

	// A camera added mid-call: a third tile, moving; the large one stays.
	depth, _ := camera(t, "depth", 240, 180)
	require.NoError(t, robot.AddVideo(depth))
	st = b.waitCameras(20*time.Second, "a third camera", func(s camerasState) bool { return len(s.Cameras) == 3 })
	assert.Equal(t, []string{"front", "wrist", "depth"}, st.names())
	d0 := st.frames("depth")
	st = b.waitCameras(20*time.Second, "the third camera moving", func(s camerasState) bool { return s.frames("depth") >= d0+10 })
	assert.Equal(t, "wrist", st.Camera, "a new camera does not take the large picture")
	assert.Equal(t, "connected", st.Connection)
	ts = b.tiles()
	require.Len(t, ts, 3)
	assert.Equal(t, "depth", ts[2].Name)
	assert.Equal(t, 240, ts[2].Width)
	saveScreenshot(t, "viewer-cameras.png", b.screenshot())
}

// The stale-video lockout watches the camera shown large, the one the
// driver looks at: a frozen camera in a tile leaves driving on, the same
// camera shown large turns it off, and going back to a moving camera
// turns it on again.
func TestViewerPageCamerasLockout(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	front, _ := camera(t, "front", 320, 240)
	wrist, wristSrc := camera(t, "wrist", 160, 120)
	goRobot(t, srv, twoCameras(front, wrist))
	// A limit of 2 s: a loaded machine's hiccups do not reach it, and a
	// frozen camera does within the test's waits.
	b := openBrowser(t, srv.base()+"/?room=realsense&stale=2000")
	b.eventsOnFailure()
	b.live(30 * time.Second)
	b.waitCameras(20*time.Second, "two cameras and driving on", func(s camerasState) bool {
		return len(s.Cameras) == 2 && s.Teleop.Open && s.Drive == ""
	})

	wristSrc.pause()
	time.Sleep(time.Second) // the last pictures on their way
	st := b.cameras()
	w0 := st.frames("wrist")
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		st = b.cameras()
		require.Equal(t, "", st.Drive, "a frozen camera in a tile turned driving off: %+v", st.Lockout)
	}
	assert.LessOrEqual(t, st.frames("wrist"), w0+1, "the wrist camera is frozen")

	b.click(`#tiles .tile[data-name="wrist"]`)
	st = b.waitCameras(10*time.Second, "driving off with the frozen camera large", func(s camerasState) bool {
		return s.Camera == "wrist" && s.Drive == "stale"
	})
	assert.True(t, st.Lockout.Locked)
	assert.True(t, b.visible("lockout"), "the lockout banner shows")

	b.click(`#tiles .tile[data-name="front"]`)
	b.waitCameras(10*time.Second, "driving on with the moving camera large", func(s camerasState) bool {
		return s.Camera == "front" && s.Drive == "" && !s.Lockout.Locked
	})
	wristSrc.play()
}

// With one camera, the usual robot, the page shows no tiles and no
// camera name, as it always has; a second camera the robot adds mid-call
// brings the tiles.
func TestViewerPageOneCameraThenTwo(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	robot := goRobot(t, srv, nil)
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.eventsOnFailure()
	b.live(30 * time.Second)
	st := b.waitCameras(10*time.Second, "one camera moving", func(s camerasState) bool {
		return len(s.Cameras) == 1 && s.frames("video") > 10
	})
	assert.Equal(t, "video", st.Camera, "an unnamed track is the camera \"video\"")
	assert.True(t, st.Cameras[0].Large)
	assert.False(t, b.visible("tiles"), "one camera: no tiles")
	assert.False(t, b.visible("cam-name"), "one camera: no name on the picture")
	assert.Empty(t, b.tiles())
	assert.Equal(t, 640, b.largeWidth())

	wrist, _ := camera(t, "wrist", 160, 120)
	require.NoError(t, robot.AddVideo(wrist))
	st = b.waitCameras(20*time.Second, "a second camera", func(s camerasState) bool { return len(s.Cameras) == 2 })
	assert.Equal(t, []string{"video", "wrist"}, st.names())
	assert.Equal(t, "video", st.Camera)
	eventually(t, 10*time.Second, func() bool { return len(b.tiles()) == 2 }, "no tiles for two cameras")
	assert.True(t, b.visible("cam-name"))
	var kinds []string
	require.NoError(t, b.eval("document.getElementById('video').srcObject.getTracks().map((t) => t.kind).sort()", &kinds))
	assert.Equal(t, []string{"audio", "video"}, kinds, "the large picture plays with the robot's audio")
}

// The robot restarts with one camera: the new call's camera plays large
// and the old call's tiles are gone.
func TestViewerPageCamerasRobotRestarts(t *testing.T) {
	chromiumPath(t)
	srv := startPageServer(t, viewer.Config{})
	front, _ := camera(t, "front", 320, 240)
	wrist, _ := camera(t, "wrist", 160, 120)
	first := goRobot(t, srv, twoCameras(front, wrist))
	b := openBrowser(t, srv.base()+"/?room=realsense")
	b.eventsOnFailure()
	b.live(30 * time.Second)
	b.waitCameras(15*time.Second, "two cameras", func(s camerasState) bool { return len(s.Cameras) == 2 })
	eventually(t, 10*time.Second, func() bool { return len(b.tiles()) == 2 }, "no tiles for two cameras")

	first.exit()
	goRobot(t, srv, nil)
	var calls struct {
		Calls int `json:"calls"`
	}
	st := b.waitCameras(30*time.Second, "the new robot's one camera moving", func(s camerasState) bool {
		return b.eval("window.avlinkViewer.state()", &calls) == nil && calls.Calls == 2 &&
			s.Connection == "connected" && len(s.Cameras) == 1 && s.frames("video") > 10
	})
	assert.Equal(t, "video", st.Camera)
	assert.Empty(t, b.tiles(), "one camera: no tiles")
	assert.False(t, b.visible("tiles"))
	assert.False(t, b.visible("cam-name"))
	eventually(t, 10*time.Second, func() bool { return b.largeWidth() == 640 }, "the large picture is not the new robot's 640x480")
}
