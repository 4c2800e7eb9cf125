package teleop

import "github.com/avlink/avlink/rtclink"

// Wire adds the robot's two channels to cfg and routes cfg's data,
// channel and state events through the robot, keeping the handlers cfg
// already has: messages of other channels, and every channel and state
// event, still reach them. Attach the session New returns.
func (r *Robot) Wire(cfg *rtclink.Config) {
	cfg.Channels = append(cfg.Channels, Channels()...)
	onData, onChannel, onState := cfg.OnData, cfg.OnChannel, cfg.OnState
	cfg.OnData = func(ch rtclink.Channel, data []byte) {
		if !r.Handle(ch, data) && onData != nil {
			onData(ch, data)
		}
	}
	cfg.OnChannel = func(ch rtclink.Channel, open bool) {
		r.HandleChannel(ch, open)
		if onChannel != nil {
			onChannel(ch, open)
		}
	}
	cfg.OnState = func(st rtclink.State) {
		r.HandleState(st)
		if onState != nil {
			onState(st)
		}
	}
}
