package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/avlink/avlink/rtclink"
)

// iceFromFlag registers -ice-from and returns a function that fetches the
// ICE servers it names, or returns none when it is not set.
func iceFromFlag() func(ctx context.Context, token string) ([]rtclink.ICEServer, error) {
	from := flag.String("ice-from", os.Getenv("AVLINK_ICE_FROM"),
		"fetch STUN/TURN servers, TURN credentials included, from this URL at start, e.g. http://server:3000/ice-servers (default $AVLINK_ICE_FROM)")
	return func(ctx context.Context, token string) ([]rtclink.ICEServer, error) {
		if *from == "" {
			return nil, nil
		}
		return FetchICEServers(ctx, http.DefaultClient, *from, token)
	}
}

// FetchICEServers gets the ICE servers a signaling server hands out on
// /ice-servers (signal/viewer): the RTCConfiguration JSON
// {"iceServers":[...]}, TURN credentials minted for this request
// included. token, when not empty, is sent as a bearer token, as the
// signaling server with -token wants it.
func FetchICEServers(ctx context.Context, client *http.Client, url, token string) ([]rtclink.ICEServer, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("-ice-from: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("-ice-from: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("-ice-from %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("-ice-from %s: %s", url, resp.Status)
	}
	var cfg struct {
		ICEServers []struct {
			URLs       json.RawMessage `json:"urls"`
			Username   string          `json:"username"`
			Credential string          `json:"credential"`
		} `json:"iceServers"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, fmt.Errorf("-ice-from %s: %w", url, err)
	}
	var out []rtclink.ICEServer
	for _, s := range cfg.ICEServers {
		// "urls" is a string or a list of strings, as in RTCIceServer.
		var urls []string
		if err := json.Unmarshal(s.URLs, &urls); err != nil {
			var one string
			if json.Unmarshal(s.URLs, &one) != nil {
				return nil, fmt.Errorf("-ice-from %s: urls %s", url, s.URLs)
			}
			urls = []string{one}
		}
		srv := rtclink.ICEServer{URLs: urls, Username: s.Username}
		if s.Credential != "" {
			srv.Credential = s.Credential
		}
		out = append(out, srv)
	}
	return out, nil
}
