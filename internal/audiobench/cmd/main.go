// Command audiobench measures mouth-to-ear audio latency on loopback:
// a click train played into the microphone's null sink of a private
// PulseAudio server, captured by examples/mic-sender, sent through
// examples/signal-server to examples/audio-receiver and played into the
// speaker's null sink, where it is found again. It prints p50 and p95 of
// each run beside the floor: the 20 ms Opus frame, Opus's 6.5 ms
// look-ahead and the device buffers the programs chose.
//
//	go run ./internal/audiobench/cmd                     # 3 runs of 60 clicks
//	go run ./internal/audiobench/cmd -receiver-args "-target 20ms"
//
// Needs PulseAudio (Debian: pulseaudio pulseaudio-utils
// libasound2-plugins), PortAudio and libopus.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/avlink/avlink/internal/audiobench"
	"github.com/avlink/avlink/internal/pulsetest"
)

func main() {
	clicks := flag.Int("clicks", 60, "clicks per run")
	period := flag.Duration("period", 487*time.Millisecond, "time between clicks (not a multiple of 10 ms, so the clicks fall at every point of a packet)")
	runs := flag.Int("runs", 3, "runs; each starts the programs afresh")
	senderArgs := flag.String("sender-args", "", "extra flags for mic-sender, space-separated")
	receiverArgs := flag.String("receiver-args", "", "extra flags for audio-receiver, space-separated")
	verbose := flag.Bool("v", false, "print the programs' logs after each run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *clicks, *period, *runs, strings.Fields(*senderArgs), strings.Fields(*receiverArgs), *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "audiobench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, clicks int, period time.Duration, runs int, senderArgs, receiverArgs []string, verbose bool) error {
	dir, err := os.MkdirTemp("", "audiobench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "building the programs...")
	progs, err := audiobench.Build(ctx, dir)
	if err != nil {
		return err
	}
	pulse, err := pulsetest.Start(pulsetest.Config{})
	if err != nil {
		return err
	}
	defer pulse.Close()

	fmt.Printf("mic-sender %s → signal-server → audio-receiver %s; %d clicks every %v per run\n\n",
		strings.Join(senderArgs, " "), strings.Join(receiverArgs, " "), clicks, period)
	fmt.Println("| run | clicks heard | p50 | p95 | min | max | floor | speaker underruns / trims | exit after SIGTERM (sender / receiver) |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var p50s, p95s []time.Duration
	var floorNote string
	for i := range runs {
		rig, err := audiobench.Start(ctx, audiobench.Config{Programs: progs, Pulse: pulse,
			SenderArgs: senderArgs, ReceiverArgs: receiverArgs, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return err
		}
		time.Sleep(time.Second) // let the jitter buffer settle
		res, err := rig.MouthToEar(ctx, clicks, period)
		sendExit, errS := rig.Sender.Stop(10 * time.Second)
		recvExit, errR := rig.Receiver.Stop(10 * time.Second)
		rig.Close()
		if err == nil && (errS != nil || errR != nil) {
			err = fmt.Errorf("stopping: sender %v, receiver %v", errS, errR)
		}
		if verbose {
			fmt.Fprintf(os.Stderr, "--- mic-sender\n%s--- audio-receiver\n%s", rig.Sender.Log(), rig.Receiver.Log())
		}
		if err != nil {
			return err
		}
		floor, note := floorOf(rig.Sender.Log(), rig.Receiver.Log())
		floorNote = note
		p50, p95 := res.Percentile(50), res.Percentile(95)
		p50s, p95s = append(p50s, p50), append(p95s, p95)
		under, trims := "?", "?"
		if m := closedRE.FindStringSubmatch(rig.Receiver.Log()); m != nil {
			under, trims = m[1], m[2]
		}
		fmt.Printf("| %d | %d/%d | %s | %s | %s | %s | %s | %s / %s | %s / %s |\n", i+1, res.Heard, res.Sent, ms(p50), ms(p95),
			ms(res.Percentile(0)), ms(res.Percentile(100)), ms(floor), under, trims, ms(sendExit), ms(recvExit))
	}
	slices.Sort(p50s)
	slices.Sort(p95s)
	fmt.Printf("\nmedian of %d runs: p50 %s, p95 %s\nfloor: %s\n", runs, ms(p50s[len(p50s)/2]), ms(p95s[len(p95s)/2]), floorNote)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

var (
	spkRE    = regexp.MustCompile(`speaker: playing.* rate=(\d+) .*block=(\d+) device_latency=(\S+) target=(\S+)`)
	closedRE = regexp.MustCompile(`speaker: closed.* underruns=(\d+) overruns=\d+ trims=(\d+)`)
)

// packet is the audio in one Opus packet, which is also how far the
// jitter buffer's fill falls between two packets.
const packet = 20 * time.Millisecond

// floorOf reads the speaker's settings from the receiver's log and adds
// to Opus's 26.5 ms (20 ms frame, 6.5 ms look-ahead) the buffers that stay
// full whatever the timing: the jitter buffer's steady wait (its target
// less the packet that drains between two writes) and the output buffer
// PortAudio reports for the speaker. The microphone's buffer is not
// among them: a block leaves it as soon as it is complete, and with 10 ms
// blocks the end of every 20 ms frame is the end of a block.
func floorOf(_, receiverLog string) (time.Duration, string) {
	s := spkRE.FindStringSubmatch(receiverLog)
	if s == nil {
		return 0, "speaker settings not found in the receiver's log"
	}
	dur := func(v string) time.Duration { d, _ := time.ParseDuration(v); return d }
	target, spkLat := dur(s[4]), dur(s[3])
	wait := max(target-packet, 0)
	floor := 26500*time.Microsecond + wait + spkLat
	return floor, fmt.Sprintf("%s = 20 ms Opus frame + 6.5 ms look-ahead + jitter buffer's steady wait %s (target %s less a %s packet) + speaker output buffer %s (as PortAudio reports it)",
		ms(floor), ms(wait), ms(target), ms(packet), ms(spkLat))
}
