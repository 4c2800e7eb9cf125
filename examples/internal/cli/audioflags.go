package cli

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// AudioDevice holds the flags of a program that runs one audio device,
// mic-sender's microphone or audio-receiver's speaker: which device, the
// format asked of it, and how often to log its level.
type AudioDevice struct {
	List           *bool
	Device         *string
	Rate, Channels *int
	Block          *int
	Latency        *time.Duration
	Loopback       *bool
	LevelEvery     *time.Duration
}

// AudioUsage is the help of the audio device flags that differs between
// a program that captures and one that plays.
type AudioUsage struct {
	// Dir is "input" or "output"; -list, -device and -latency name it.
	Dir string
	// DefaultDevice says which device an empty -device picks.
	DefaultDevice string
	// Rate, Channels, Block and LevelEvery are the help of -rate,
	// -channels, -block and -level-every.
	Rate, Channels, Block, LevelEvery string
}

// AudioDeviceFlags registers -list, -device, -rate, -channels, -block,
// -latency, -loopback and -level-every; read them after flag.Parse.
// -channels defaults to 1 and -level-every to 5 s.
func AudioDeviceFlags(u AudioUsage) *AudioDevice {
	return &AudioDevice{
		List:       flag.Bool("list", false, "list the "+u.Dir+" devices and exit"),
		Device:     flag.String("device", "", u.Dir+" device: its index or part of its name (default: "+u.DefaultDevice+")"),
		Rate:       flag.Int("rate", 0, u.Rate),
		Channels:   flag.Int("channels", 1, u.Channels),
		Block:      flag.Int("block", 0, u.Block),
		Latency:    flag.Duration("latency", 0, u.Dir+" latency asked of the device (0: its default low latency)"),
		Loopback:   flag.Bool("loopback", false, "gather 127.0.0.1 candidates too, for a peer on this host when it has no other interface"),
		LevelEvery: flag.Duration("level-every", 5*time.Second, u.LevelEvery),
	}
}

// AudioDeviceInfo is what -list shows of a device: mic.Device and
// speaker.Device alike.
type AudioDeviceInfo interface{ ~audioDevice }

// audioDevice is the struct mic.Device and speaker.Device share.
type audioDevice = struct {
	Index       int
	Name        string
	HostAPI     string
	Channels    int
	DefaultRate int
	Latency     time.Duration
	Default     bool
}

// ListAudioDevices writes devs as a table, one a line, or says that
// there are no dir ("input" or "output") devices.
func ListAudioDevices[D AudioDeviceInfo](w io.Writer, dir string, devs []D) error {
	if len(devs) == 0 {
		_, err := fmt.Fprintf(w, "no %s devices (PortAudio finds none)\n", dir)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "index\tname\tchannels\tdefault rate\thost API\t")
	for _, d := range devs {
		d := audioDevice(d)
		def := ""
		if d.Default {
			def = "default"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d Hz\t%s\t%s\n", d.Index, d.Name, d.Channels, d.DefaultRate, d.HostAPI, def)
	}
	return tw.Flush()
}
