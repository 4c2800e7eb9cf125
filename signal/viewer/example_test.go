package viewer_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/avlink/avlink/signal/viewer"
	"github.com/avlink/avlink/signal/wsserver"
)

// A signaling server that shows the viewer page on "/" and hands out a
// STUN server and minted TURN credentials on "/ice-servers". Browsers
// open http://host:3000/?room=realsense; robots and the original
// deployment's clients dial ws://host:3000/ as before.
func ExampleViewer_WithSignaling() {
	srv, err := wsserver.New(wsserver.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	page, err := viewer.New(viewer.Config{
		ICEServers: []viewer.ICEServer{{URLs: []string{"stun:turn.example.com:3478"}}},
		TURNSecret: "shared-with-the-turn-server",
		TURNURLs:   []string{"turn:turn.example.com:3478"},
		TURNTTL:    time.Hour,
		// A fixed clock, for the output below; leave it nil.
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) },
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", page.WithSignaling(srv))
	mux.Handle("/healthz", srv.Health())
	hs := httptest.NewServer(mux) // http.ListenAndServe(":3000", mux)
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/ice-servers")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// {"iceServers":[{"urls":["stun:turn.example.com:3478"]},{"urls":["turn:turn.example.com:3478"],"username":"1800003600:avlink","credential":"BmWEDdg0Z6UKy5cL5TE1qJlZo40="}]}
}
