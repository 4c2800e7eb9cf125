// Package teleop is the robot's end of the viewer page's teleop channel
// (signal/viewer): it reads the page's drive and stop commands from a
// data channel and echoes each one, so the page can show the command
// round trip.
//
// The robot's session opens the channel — an unreliable one, labelled
// "teleop", unordered and never retransmitted, since only the newest
// command matters — and the page takes it when it arrives. Each message
// is one JSON object:
//
//	{"type":"drive","seq":17,"t":51234.5,"linear":0.5,"angular":-0.5}
//	{"type":"stop","seq":18,"t":51301.2}
//
// Seq counts the page's commands from 1; t is the page's millisecond
// clock when it sent the command; linear (forward positive) and angular
// (to the left positive) are speeds scaled to [-1, 1], as a ROS Twist's
// linear.x and angular.z. The page repeats a drive command about ten
// times a second while a key or button is held (never more than twenty),
// and sends a stop three times when it is released, when the page loses
// focus or on the space bar. The robot answers every command with
//
//	{"type":"echo","seq":17,"t":51234.5}
//
// on the same channel, and the page shows its clock's now - t.
//
// Commands may be lost or overtake each other on the way; this package
// hands every valid one on as it arrives and does nothing more: it stops
// nothing by itself when commands cease.
//
// Wiring it into a robot's session:
//
//	tp, _ := teleop.New(teleop.Config{OnCommand: func(c teleop.Command) { drive(c.Linear, c.Angular) }})
//	s, _ := rtclink.New(rtclink.Config{
//		Signaler: sig,
//		Role:     rtclink.Offerer,
//		Video:    video,
//		Channels: []rtclink.ChannelConfig{teleop.ChannelConfig()},
//		OnData:   func(ch rtclink.Channel, data []byte) { tp.Handle(ch, data) },
//	})
//	tp.Attach(s) // echoes go out through s
package teleop
