package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"github.com/avlink/avlink/examples/internal/cli"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
)

// serve joins the room given by the shared flags and runs the call until
// Ctrl-C or SIGTERM (nil), a device failure, or the end of signaling (an
// error), logging each phase in plain words. It does what cli.Run does,
// and ends the program when a device fails as well.
func serve(ctx context.Context, cfg rtclink.Config, devs *devices, log *slog.Logger, started ...func(rtclink.Session)) error {
	url, room := flag.Lookup("signal").Value.String(), flag.Lookup("room").Value.String()
	token := flag.Lookup("token").Value.String()
	if path := flag.Lookup("cpuprofile"); path != nil && path.Value.String() != "" {
		f, err := os.Create(path.Value.String())
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cli.WaitEncoders(ctx, cfg, log)
	log.Info("connecting to the signaling server", "url", url, "room", room)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	sig, err := wsclient.Dial(dctx, url, room, &wsclient.DialOptions{Token: token, Logger: log})
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			log.Info("stopped before the signaling server answered")
			return nil
		}
		return fmt.Errorf("signaling server %s: %w", url, err)
	}
	defer sig.Close()
	log.Info("connected to the signaling server", "url", url, "room", room, "announces_peers", sig.AcknowledgesJoins())

	cfg.Signaler = sig
	cfg.OnState = logPhases(log, cfg.OnState)
	rec := cli.RecordStatsJSON(&cfg)
	s, err := rtclink.New(cfg)
	if err != nil {
		return err
	}
	defer func() {
		s.Close()
		log.Info("call closed")
	}()
	rec.Follow(s)
	defer rec.Write(log)
	for _, f := range started {
		f(s)
	}
	log.Info("in the room, waiting for a viewer to join", "room", room)

	rctx, stopReport := context.WithCancel(ctx)
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		cli.Report(rctx, s, log)
	}()
	defer func() {
		stopReport()
		<-reported
	}()

	select {
	case <-ctx.Done():
		log.Info("stopping: interrupted")
		return nil
	case err := <-devs.Failed():
		log.Error("stopping: a device failed", "err", err)
		return err
	case <-s.Done():
		return fmt.Errorf("signaling ended: %w", s.Err())
	}
}

// logPhases logs connection states in plain words, then passes them on.
func logPhases(log *slog.Logger, next func(rtclink.State)) func(rtclink.State) {
	return func(st rtclink.State) {
		switch st {
		case rtclink.StateNew:
			log.Info("a viewer is here: setting up the call")
		case rtclink.StateConnecting:
			log.Info("connecting to the viewer")
		case rtclink.StateConnected:
			log.Info("connected: sending video to the viewer")
		case rtclink.StateDisconnected:
			log.Warn("connection to the viewer interrupted, waiting for it to come back")
		case rtclink.StateFailed:
			log.Warn("connection to the viewer failed")
		case rtclink.StateClosed:
			log.Info("the viewer ended the call; waiting for a viewer")
		}
		if next != nil {
			next(st)
		}
	}
}
