package cli

import (
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The recorder counts bytes and frames per second, lists pauses in the
// video, and names the relay's transport by the connection that carried
// the most lately.
func TestStatsFile(t *testing.T) {
	r := &statsRecorder{started: time.Now().Add(-7 * time.Second)}
	// Seconds 0..6: a TLS connection carried the media until second 5,
	// UDP to a TURN server only refreshes.
	for sec := range 7 {
		at := r.started.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		r.mu.Lock()
		s := r.second(at)
		s.BytesOut, s.BytesIn = 125_000, 1000
		s.turn[turnTLS], s.turn[turnUDP] = 126_000, 200
		r.mu.Unlock()
	}
	r.frame()
	time.Sleep(120 * time.Millisecond)
	r.frame()
	r.frame()

	st := rtclink.Stats{At: time.Now(), State: rtclink.StateConnected}
	st.Transport.LocalCandidate, st.Transport.RemoteCandidate = "relay", "prflx"
	st.Transport.RTT = 1500 * time.Microsecond
	st.VideoIn.FramesDecoded = 3
	f := r.file(st)

	assert.Equal(t, "connected", f.State)
	assert.Equal(t, StatsPair{Local: "relay", Remote: "prflx", RelayTransport: "tls"}, f.Pair)
	assert.InDelta(t, 1.5, f.RTTMillis, 0.001)
	assert.InDelta(t, 1_000_000, f.BitrateOut, 1, "125 kB a second")
	assert.InDelta(t, 8000, f.BitrateIn, 1)
	require.Len(t, f.Gaps, 1, "one pause of 100 ms or more")
	assert.GreaterOrEqual(t, f.Gaps[0].Millis, 100.0)
	assert.InDelta(t, f.Gaps[0].Millis, f.LongestGapMillis, 0.001)
	assert.False(t, f.FirstFrame.IsZero())
	assert.True(t, f.LastFrame.After(f.FirstFrame))
	require.Len(t, f.Seconds, 8)
	assert.Equal(t, 7, f.Seconds[7].T)
	assert.Equal(t, int64(3), f.Seconds[7].Frames)

	data, err := json.Marshal(f)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"relay_transport":"tls"`)
	assert.NotContains(t, string(data), "turn", "per-connection counts stay inside")

	// A direct pair names no relay transport.
	st.Transport.LocalCandidate = "host"
	assert.Empty(t, r.file(st).Pair.RelayTransport)
}

// Seconds with nothing counted are there, as zeros; an idle hour is not
// kept whole.
func TestStatsSecondsBounded(t *testing.T) {
	r := &statsRecorder{started: time.Now()}
	r.mu.Lock()
	r.second(r.started.Add(2500*time.Millisecond)).Frames++
	assert.Len(t, r.seconds, 3)
	r.second(r.started.Add(3*maxSeconds*time.Second)).Frames++
	assert.LessOrEqual(t, len(r.seconds), maxSeconds+maxSeconds/6)
	assert.Equal(t, 3*maxSeconds, r.seconds[len(r.seconds)-1].T)
	r.mu.Unlock()
}

// A TCP connection to a TURN server is told from a TLS one by its first
// byte.
func TestCountedTCPKind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = c.Read(make([]byte, 64)) }()
		}
	}()
	r := &statsRecorder{started: time.Now()}
	n := &countingNet{rec: r}
	for _, c := range []struct {
		first []byte
		want  int
	}{{[]byte{0x16, 0x03, 0x01}, turnTLS}, {[]byte{0x00, 0x03, 0x00}, turnTCP}} {
		raw, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
		require.NoError(t, err)
		tc := &countedTCP{TCPConn: raw, rec: n.rec}
		tc.class.Store(-1)
		_, err = tc.Write(c.first)
		require.NoError(t, err)
		assert.Equal(t, c.want, tc.kind(nil))
		tc.Close()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Equal(t, int64(3), r.seconds[0].turn[turnTLS])
	assert.Equal(t, int64(3), r.seconds[0].turn[turnTCP])
}

// recordStats leaves the configuration alone without -stats-json, and
// with it wraps the network, the video sink and OnState.
func TestRecordStatsWraps(t *testing.T) {
	cfg := rtclink.Config{ReceiveVideo: &rtclink.VideoReceiver{Sink: playback.Discard{}, NewDecoder: func(capture.Codec) (playback.VideoDecoder, error) { return nil, nil }}}
	assert.Nil(t, recordStats(&cfg))
	assert.Nil(t, cfg.Net)

	old := *statsJSON
	*statsJSON = t.TempDir() + "/s.json"
	defer func() { *statsJSON = old }()
	var states []rtclink.State
	cfg.OnState = func(s rtclink.State) { states = append(states, s) }
	r := recordStats(&cfg)
	require.NotNil(t, r)
	assert.IsType(t, &countingNet{}, cfg.Net)
	vs, ok := cfg.ReceiveVideo.Sink.(playback.VideoSink)
	require.True(t, ok)
	require.NoError(t, vs.WriteVideo(&capture.VideoFrame{}))
	cfg.OnState(rtclink.StateConnected)
	assert.Equal(t, []rtclink.State{rtclink.StateConnected}, states, "the program's OnState still called")
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.False(t, r.connected.IsZero())
	assert.False(t, r.firstFrame.IsZero())
}

// fakeSession is a session whose stats are fixed.
type fakeSession struct {
	rtclink.Session
	st rtclink.Stats
}

func (f fakeSession) Stats() rtclink.Stats { return f.st }

// The file is written where -stats-json says; a call over by the end
// keeps the pair it had.
func TestStatsWrite(t *testing.T) {
	path := t.TempDir() + "/s.json"
	r := &statsRecorder{path: path, started: time.Now()}
	r.write(slog.New(slog.DiscardHandler)) // no session yet: nothing
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)

	var live rtclink.Stats
	live.State = rtclink.StateConnected
	live.Transport.LocalCandidate, live.Transport.RemoteCandidate = "host", "srflx"
	live.At = time.Now()
	r.follow(fakeSession{st: live})
	r.notePair()
	r.follow(fakeSession{st: rtclink.Stats{At: time.Now()}}) // the peer has left
	r.write(slog.New(slog.DiscardHandler))

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var f StatsFile
	require.NoError(t, json.Unmarshal(data, &f))
	assert.Equal(t, "", f.State, "no call at the end")
	assert.Equal(t, StatsPair{Local: "host", Remote: "srflx"}, f.Pair, "the call's pair")
}
