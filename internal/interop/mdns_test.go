package interop

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// netnsEnv marks the copy of the test binary that runs inside the
// network namespace.
const netnsEnv = "AVLINK_INTEROP_NETNS"

// netnsSetup makes the namespace's network: loopback, and one end of a
// veth pair with a private address that Chromium gathers candidates on (it
// ignores loopback), with multicast routed there for mDNS. The other end
// has no address and no multicast, so the page's mDNS responder does not
// hear its own announcements as a rival's. A page without media permission
// gathers only on the interface of the default route, so av0 is that too;
// whatever is sent there ends at av1. Nothing leaves the namespace.
const netnsSetup = `set -e
ip link set lo up
ip link add av0 type veth peer name av1
ip addr add 10.77.0.1/24 dev av0
ip link set av1 multicast off
ip link set av1 up
ip link set av0 up
ip route add 224.0.0.0/4 dev av0
ip route add default dev av0
exec "$@"`

// inNetns runs the named test again in a fresh user and network
// namespace and reports its outcome here; it returns false in the parent.
// The namespace keeps the page's mDNS multicast off the host's networks.
func inNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == "1" {
		return true
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare(1) for a private network namespace")
	}
	if err := exec.Command(unshare, "-rn", "true").Run(); err != nil {
		t.Skipf("cannot create a user and network namespace: %v", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8) to set up the namespace's network")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	args := []string{"-rn", "sh", "-c", netnsSetup, "sh", os.Args[0], "-test.run=^" + t.Name() + "$", "-test.v", "-test.count=1"}
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	text := out.String()
	switch {
	case strings.Contains(text, "--- SKIP: "+t.Name()):
		t.Skipf("in the namespace:\n%s", text)
	case err != nil:
		t.Fatalf("in the namespace: %v\n%s", err, text)
	default:
		t.Logf("in the namespace:\n%s", text)
	}
	return false
}

// A page with no media permission, as a real viewer page is until it asks
// for the microphone, offers its host candidates as mDNS .local names.
// The Session must resolve them to connect.
func TestChromiumViewerMDNS(t *testing.T) {
	chromiumPath(t)
	if !inNetns(t) {
		return
	}
	p := viewerPage(t)
	robot := robotFor(t, p, rtclink.Config{Video: videoSender(t, 640, 480), Audio: audioSender(t, 1000)})

	startChromium(t, p.base+"/viewer.html?room=realsense&frames=60&timeout=20000", false)
	res := p.wait(t)
	st := robot.Stats()
	t.Logf("page: %s after %d pictures painted, %d decoded at %dx%d; ICE %v, pair %s; local candidates %q; errors %q",
		res.Why, res.PaintedFrames, res.FramesDecoded, res.VideoWidth, res.VideoHeight, res.ICEStates, res.Pair, res.LocalCandidates, res.Errors)
	t.Logf("robot: state %s, %s/%s pair, %d frames sent", st.State, st.Transport.LocalCandidate, st.Transport.RemoteCandidate, st.VideoOut.FramesSent)

	mdns := 0
	for _, c := range res.LocalCandidates {
		if strings.Contains(c, ".local ") {
			mdns++
		}
	}
	require.NotEmpty(t, res.LocalCandidates, "the page gathered no candidates")
	require.Equal(t, len(res.LocalCandidates), mdns, "without media permission every candidate should be an mDNS name")
	// Chromium's own checks would also connect through a peer-reflexive
	// candidate; a remote host candidate shows the name was resolved.
	assert.Equal(t, "host", st.Transport.RemoteCandidate, "the robot's remote candidate: the page's mDNS name, resolved")
	assert.Equal(t, "frames", res.Why, "the page did not paint 60 pictures")
	assert.GreaterOrEqual(t, res.FramesDecoded, 60)
	assert.Equal(t, 640, res.VideoWidth)
}
