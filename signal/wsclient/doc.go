// Package wsclient is the WebSocket client of avlink's signaling: it
// connects to a signaling server (the one of
// [github.com/avlink/avlink/signal/wsserver], or the original deployment's
// Node.js server), joins a room, and gives a session a
// [github.com/avlink/avlink/signal.Signaler] that stays connected.
//
// # Using it
//
//	sig, err := wsclient.Dial(ctx, "ws://signal.example.com:3000", "realsense", &wsclient.DialOptions{
//		Token: os.Getenv("AVLINK_SIGNAL_TOKEN"),
//	})
//	if err != nil {
//		return err // a wrong URL, a refused token, no server
//	}
//	defer sig.Close()
//	// hand sig to rtclink.New, or Send and Recv messages yourself
//
// Dial takes ws:// and wss:// URLs only, and gives each connection
// attempt a bounded time (DialOptions.HandshakeTimeout, 10 s by default),
// so that a wrong address or a server that does not answer fails the call
// with an error naming the URL as typed, instead of hanging it.
//
// # Reconnecting, and stopping for good
//
// When the connection drops, the [Client] reconnects with backoff, joins
// its room again asking to keep its id, and delivers a message of type
// [github.com/avlink/avlink/signal.TypeReconnected] from Recv, after
// which a session restarts ICE. Sends made meanwhile wait for the new
// connection.
//
// With servers that share their rooms (wsserver servers on one NATS
// system), list the others in DialOptions.FallbackURLs: after a drop the
// Client reconnects to the next URL in turn, keeping its id, so a
// session survives the loss of its server without its peers seeing it
// leave.
//
// It stops for good, and Recv returns why once the messages received
// before are delivered, when the server refuses it: its token or origin on
// a reconnect (signal.ErrUnauthorized), its join because the room is full
// or the server has too many rooms (signal.ErrRoomFull, on the first
// connection too), or when the server stays unreachable for
// DialOptions.ReconnectTimeout (signal.ErrUnreachable; by default it
// keeps trying). [Client.Done] and [Client.Err] tell the same to a
// program that is not reading.
//
// The Client also reports, from the upgrade response, whether its server
// answers joins ([Client.AcknowledgesJoins]): the original Node.js server
// does not, and a session then offers without waiting for a "joined".
package wsclient
