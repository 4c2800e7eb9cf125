// Package lkviewer is a LiveKit participant built on LiveKit's Go SDK
// alone, as any LiveKit client would be: it decodes a publisher's VP8
// video and reads the capture stamps of the test pattern, decodes its
// Opus audio, and keeps the data packets it receives. Tests and the
// benchmark use it to see what a viewer sees.
package lkviewer

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/livekit"
	playopus "github.com/avlink/avlink/playback/opus"
	playvp8 "github.com/avlink/avlink/playback/vp8"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Config says where to join and what to do with the media.
type Config struct {
	URL, APIKey, APISecret, Room, Identity string
	// From is the identity whose tracks are read; others are ignored.
	From string
	// ReadOnly reads the video's packets without decoding them: a
	// subscriber that costs the server the same and this process little.
	// Frames then stays empty; Packets counts either way.
	ReadOnly bool
}

// Frame is one decoded video frame.
type Frame struct {
	Counter  uint16    // the pattern's frame counter
	Captured time.Time // its capture time, from the stamp
	Decoded  time.Time // when it left the decoder
}

// Latency is capture to decoded.
func (f Frame) Latency() time.Duration { return f.Decoded.Sub(f.Captured) }

// Viewer is a participant in a room.
type Viewer struct {
	Room *lksdk.Room
	cfg  Config
	wg   sync.WaitGroup

	mu      sync.Mutex
	frames  []Frame
	packets int
	pcm     []int16
	data    map[string][]string
	err     error
	changed chan struct{}
}

// Join joins cfg.Room and starts reading cfg.From's tracks as soon as
// they are subscribed.
func Join(cfg Config) (*Viewer, error) {
	v := &Viewer{cfg: cfg, data: map[string][]string{}, changed: make(chan struct{})}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(tr *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if rp.Identity() != cfg.From {
			return
		}
		v.wg.Add(1)
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			go v.readVideo(tr)
		} else {
			go v.readAudio(tr)
		}
	}
	cb.OnDataPacket = func(p lksdk.DataPacket, _ lksdk.DataReceiveParams) {
		if u, ok := p.(*lksdk.UserDataPacket); ok {
			v.update(func() { v.data[u.Topic] = append(v.data[u.Topic], string(u.Payload)) })
		}
	}
	token, err := livekit.Token(cfg.APIKey, cfg.APISecret, cfg.Room, cfg.Identity, time.Hour)
	if err != nil {
		return nil, err
	}
	v.Room, err = lksdk.ConnectToRoomWithToken(cfg.URL, token, cb, lksdk.WithLogger(protoLogger.GetDiscardLogger()))
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (v *Viewer) update(f func()) {
	v.mu.Lock()
	f()
	close(v.changed)
	v.changed = make(chan struct{})
	v.mu.Unlock()
}

// Wait returns when ok holds, ctx ends, or a track could not be read.
// ok runs with nothing locked, so it may call the other methods.
func (v *Viewer) Wait(ctx context.Context, ok func() bool) error {
	for {
		v.mu.Lock()
		changed, err := v.changed, v.err
		v.mu.Unlock()
		if err != nil {
			return err
		}
		if ok() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Frames returns the frames decoded so far, in order.
func (v *Viewer) Frames() []Frame {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Frame(nil), v.frames...)
}

// FrameCount is len(Frames()) without the copy.
func (v *Viewer) FrameCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.frames)
}

// Packets counts the video RTP packets received.
func (v *Viewer) Packets() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.packets
}

// PCM returns the audio decoded so far (48 kHz, first channel first as
// the decoder interleaves it).
func (v *Viewer) PCM() []int16 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]int16(nil), v.pcm...)
}

// Samples is len(PCM()) without the copy.
func (v *Viewer) Samples() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.pcm)
}

// Data returns the payloads received under topic.
func (v *Viewer) Data(topic string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.data[topic]...)
}

func (v *Viewer) fail(err error) { v.update(func() { v.err = errors.Join(v.err, err) }) }

// readVideo rebuilds VP8 frames from RTP, decodes each the moment its
// last packet arrives, as a browser does, and reads its stamp. After a
// frame is given up for lost, the viewer waits for a keyframe and asks
// the server for one.
func (v *Viewer) readVideo(tr *webrtc.TrackRemote) {
	defer v.wg.Done()
	var dec *playvp8.Decoder
	if !v.cfg.ReadOnly {
		d, err := playvp8.NewDecoder(playvp8.DecoderConfig{})
		if err != nil {
			v.fail(err)
			return
		}
		defer d.Close()
		dec = d
	}
	var lastPLI time.Time
	askKeyframe := func() {
		if time.Since(lastPLI) > 500*time.Millisecond {
			lastPLI = time.Now()
			_ = v.Room.LocalParticipant.GetSubscriberPeerConnection().WriteRTCP(
				[]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
		}
	}
	asm := newAssembler()
	broken := true // decoding waits for a keyframe, at first and after a loss
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		v.update(func() { v.packets++ })
		if dec == nil {
			continue
		}
		frames, lost := asm.push(pkt, time.Now())
		broken = broken || lost
		for _, frame := range frames {
			v.decode(dec, frame, &broken, askKeyframe)
		}
	}
}

// decode decodes one frame and records its stamp; while broken, only a
// keyframe is decoded.
func (v *Viewer) decode(dec *playvp8.Decoder, frame []byte, broken *bool, askKeyframe func()) {
	// A keyframe's first byte has the inverse key frame bit clear.
	if *broken && frame[0]&1 != 0 {
		askKeyframe()
		return
	}
	*broken = false
	f, err := dec.Decode(frame)
	if err != nil || f == nil {
		if dec.NeedKeyframe() {
			askKeyframe()
		}
		return
	}
	at, n, err := stamp.Read(f)
	if err != nil {
		return
	}
	now := time.Now()
	v.update(func() { v.frames = append(v.frames, Frame{Counter: n, Captured: at, Decoded: now}) })
}

func (v *Viewer) readAudio(tr *webrtc.TrackRemote) {
	defer v.wg.Done()
	dec, err := playopus.NewDecoder(playopus.DecoderConfig{})
	if err != nil {
		v.fail(err)
		return
	}
	defer dec.Close()
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if v.cfg.ReadOnly {
			continue
		}
		f, err := dec.Decode(pkt.Payload)
		if err != nil || f == nil {
			continue
		}
		v.update(func() { v.pcm = append(v.pcm, f.Samples...) })
	}
}

// Close leaves the room and waits for the track readers to end.
func (v *Viewer) Close() {
	v.Room.Disconnect()
	v.wg.Wait()
}
