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
package wsserver
