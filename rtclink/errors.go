package rtclink

import "errors"

var (
	// ErrClosed is returned by a Session after Close, and is its Err
	// after a Close.
	ErrClosed = errors.New("rtclink: session closed")
	// ErrConfig reports a Config that cannot work.
	ErrConfig = errors.New("rtclink: invalid config")
	// ErrNoChannel reports SendData on a channel that is not open (yet).
	ErrNoChannel = errors.New("rtclink: data channel not open")
	// ErrNoPath is returned by WaitConnected when the peer connection
	// failed while it waited: ICE found no working path to the peer. The
	// session keeps trying (the offerer restarts ICE); the error says
	// what usually fixes it.
	ErrNoPath = errors.New("rtclink: no network path to the peer")
	// ErrSignalingEnded is a session's Err when its Signaler stopped for
	// good; the Signaler's own error is wrapped with it, so
	// errors.Is(err, signal.ErrRoomFull) tells a full room from a refused
	// token (signal.ErrUnauthorized) or a lost server
	// (signal.ErrUnreachable).
	ErrSignalingEnded = errors.New("rtclink: signaling ended")
)
