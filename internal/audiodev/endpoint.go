package audiodev

import "time"

// Endpoint is a device as one direction sees it. capture/mic's and
// playback/speaker's Device types have its fields in its order, so that
// each converts from it and both list their devices through [ListAs].
type Endpoint = struct {
	Index       int
	Name        string
	HostAPI     string
	Channels    int
	DefaultRate int
	Latency     time.Duration
	Default     bool
}

// Endpoint returns d as direction dir sees it: that direction's channels,
// latency and default mark.
func (d Device) Endpoint(dir Direction) Endpoint {
	lat := d.InputLatency
	if dir == Output {
		lat = d.OutputLatency
	}
	return Endpoint{Index: d.Index, Name: d.Name, HostAPI: d.HostAPI, Channels: d.Channels(dir),
		DefaultRate: int(d.DefaultRate), Latency: lat, Default: d.IsDefault(dir)}
}

// ListAs lists the devices of direction dir, as [List] finds them, each
// converted to a package's own Device type D. An empty list and a nil
// error mean the machine has none.
func ListAs[D ~Endpoint](dir Direction) ([]D, error) {
	all, err := List()
	if err != nil {
		return nil, err
	}
	var out []D
	for _, d := range Filter(all, dir) {
		out = append(out, D(d.Endpoint(dir)))
	}
	return out, nil
}
