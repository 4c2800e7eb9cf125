package turntest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// ConnectRelayOnly connects two PeerConnections that may only use relay
// candidates from ice, exchanges a message each way over a data channel
// and checks that both ends selected a relay/relay candidate pair. It
// fails the test otherwise; both connections are closed when it returns.
func ConnectRelayOnly(ctx context.Context, tb testing.TB, ice []webrtc.ICEServer) {
	tb.Helper()
	if err := connectRelayOnly(ctx, ice); err != nil {
		tb.Fatal(err)
	}
}

func connectRelayOnly(ctx context.Context, ice []webrtc.ICEServer) (err error) {
	cfg := webrtc.Configuration{ICEServers: ice, ICETransportPolicy: webrtc.ICETransportPolicyRelay}
	offerer, err := webrtc.NewPeerConnection(cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, offerer.Close()) }()
	answerer, err := webrtc.NewPeerConnection(cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, answerer.Close()) }()

	echoed := make(chan string, 1)
	answerer.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			_ = dc.SendText("echo:" + string(m.Data))
		})
	})
	dc, err := offerer.CreateDataChannel("relay-check", nil)
	if err != nil {
		return err
	}
	dc.OnOpen(func() { _ = dc.SendText("hello through the relay") })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case echoed <- string(m.Data):
		default:
		}
	})

	if err := negotiate(ctx, offerer, answerer); err != nil {
		return err
	}
	select {
	case got := <-echoed:
		if got != "echo:hello through the relay" {
			return fmt.Errorf("turntest: data channel echoed %q", got)
		}
	case <-ctx.Done():
		return fmt.Errorf("turntest: no data channel echo through the relay: %w (ICE states %s / %s)",
			ctx.Err(), offerer.ICEConnectionState(), answerer.ICEConnectionState())
	}
	for name, pc := range map[string]*webrtc.PeerConnection{"offerer": offerer, "answerer": answerer} {
		if err := SelectedPairIsRelay(pc); err != nil {
			return fmt.Errorf("turntest: %s: %w", name, err)
		}
	}
	return nil
}

// negotiate runs a non-trickle offer/answer between two local peers.
func negotiate(ctx context.Context, offerer, answerer *webrtc.PeerConnection) error {
	gather := func(pc *webrtc.PeerConnection, sdp webrtc.SessionDescription) error {
		done := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(sdp); err != nil {
			return err
		}
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("turntest: ICE gathering: %w", ctx.Err())
		}
	}
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := gather(offerer, offer); err != nil {
		return err
	}
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		return err
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := gather(answerer, answer); err != nil {
		return err
	}
	return offerer.SetRemoteDescription(*answerer.LocalDescription())
}

// SelectedPairIsRelay returns nil when pc's selected ICE candidate pair is
// relay on both sides, and an error saying what it is otherwise.
func SelectedPairIsRelay(pc *webrtc.PeerConnection) error {
	sctp := pc.SCTP()
	if sctp == nil || sctp.Transport() == nil {
		return errors.New("no SCTP transport")
	}
	var pair *webrtc.ICECandidatePair
	var err error
	// The pair is selected before the data channel opens; allow the
	// transport a moment to publish it.
	for range 50 {
		if pair, err = sctp.Transport().ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pair == nil {
		return fmt.Errorf("no selected candidate pair (%v)", err)
	}
	if pair.Local.Typ != webrtc.ICECandidateTypeRelay || pair.Remote.Typ != webrtc.ICECandidateTypeRelay {
		return fmt.Errorf("selected pair is %s/%s, want relay/relay", pair.Local.Typ, pair.Remote.Typ)
	}
	return nil
}
