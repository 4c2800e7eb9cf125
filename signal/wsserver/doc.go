// Package wsserver is the signaling server of avlink: an http.Handler
// that upgrades requests to WebSocket connections and relays the JSON
// messages of [github.com/avlink/avlink/signal] between the members of a
// room. It speaks the wire protocol of the original deployment's Node.js
// signaling server, so that deployment's browser page and Python aiortc
// clients work unchanged, and adds rooms, join answers, peer events,
// limits, authentication and metrics.
//
// # Using it
//
//	srv, err := wsserver.New(wsserver.Config{Token: os.Getenv("AVLINK_SIGNAL_TOKEN")})
//	if err != nil {
//		return err
//	}
//	hs := &http.Server{Addr: ":3000", Handler: srv.Handler()}
//	go hs.ListenAndServe()
//	<-ctx.Done() // SIGTERM
//	hs.Shutdown(shutdownCtx)  // no new connections
//	srv.Shutdown(shutdownCtx) // close the WebSockets with 1001 (going away)
//
// [Server.Handler] serves the WebSocket endpoint on "/", "ok" on
// "/healthz" and Prometheus metrics on "/metrics"; or mount the Server
// itself, [Server.Health] and [Server.Metrics] in a mux of your own.
// examples/signal-server is a complete command.
//
// # Behaviour
//
// Every limit has a safe default ([Config] documents each): message size,
// a per-connection rate limit, peers per room, rooms, connections, and a
// bounded outgoing queue per connection, so that one peer that stops
// reading does not hold up the others. Each connection is pinged every
// 20 s (Config.PingInterval) and dropped when it does not answer within
// that time. A token and an origin check refuse strangers with HTTP 403
// before the upgrade.
//
// [Server.Shutdown] closes every connection with status 1001, which
// clients take as a cue to reconnect without telling their peers anyone
// left; [Server.Close] drops them at once. An idle connection holds one
// goroutine with a small stack and no buffers.
//
// The server speaks RFC 6455 itself on the connection it takes over from
// net/http: masked client frames, fragments with control frames between
// them, ping and pong, the close handshake with its status codes, UTF-8
// checks on text, and no extensions. A client that breaks the protocol is
// closed with 1002 (or 1007 for bad UTF-8, 1009 for a message over
// MaxMessageBytes); the others are not affected.
//
// # Rooms across servers
//
// By default a room lives in one process. With Config.NATS set, every
// Server on the same NATS system (and Config.NATSPrefix) shares its
// rooms, so a fleet can run several servers behind a load balancer or
// in several sites:
//
//	nc, err := nats.Connect("nats://a:4222,nats://b:4222", nats.UserCredentials("signal.creds"))
//	...
//	srv, err := wsserver.New(wsserver.Config{NATS: nc})
//	...
//	defer nc.Close() // after srv.Close or srv.Shutdown
//
// A room then behaves as on one server: the joined answer lists the
// members on every server, oldest first (by the servers' clocks);
// peer-joined and peer-left reach every member; "to" reaches the one peer
// wherever it is connected; a client that reconnects to another server
// keeps its id; a sender's messages arrive in the order sent, once, and
// never in another room. Size and rate limits apply at the server the
// sender is connected to; MaxPeersPerRoom counts the members on every
// server, as far as this server has heard of them.
//
// Each room has one subject, <prefix>.room.<room>, which a server
// subscribes to while it has members in the room; the first of them to
// join asks the other servers who is in the room before its joined
// answer, waiting at most a heartbeat. Servers heartbeat on
// <prefix>.presence every second. A server unheard for 3 s is taken for
// dead: every other server tells its members that the dead one's peers
// left, within 4 s of its last heartbeat, unless they have come back on
// another server meanwhile. Shutdown and Close do not announce their
// peers as left, so clients that reconnect elsewhere within those 3 s
// keep their peers. After NATS comes back from an outage, servers
// announce their members again and rooms converge.
//
// NATS delivers at most once: a message in flight while a server loses
// its NATS connection is lost, as one in flight on a dropped WebSocket
// would be. Until the connection is back (on the same node or another
// of the cluster), the server's health answers 503 "nats: RECONNECTING",
// so that a load balancer sends new clients elsewhere.
package wsserver
