// Package teleop is the robot's end of remote driving: it takes the
// viewer page's commands (signal/viewer) from a data channel, runs the
// fresh ones, and stops the robot by itself when the operator's commands
// stop coming, when the link or the page goes, or when the page's E-stop
// is pressed.
//
// # Channels
//
// The robot's session opens two data channels (Channels; rtclink.Config
// .Channels) and the page takes them when they arrive.
//
// "teleop" (Label, ChannelConfig) is unordered and never retransmitted:
// only the newest command matters, and a late one would be refused. The
// page sends commands, each one JSON object with a seq (the page's
// commands counted from 1, all types on one counter) and t (the page's
// clock at send, in milliseconds since the Unix epoch):
//
//	{"type":"drive","seq":17,"t":1733140800123.5,"linear":0.5,"angular":-0.5}
//	{"type":"stop","seq":18,"t":1733140800201.2}
//	{"type":"action","seq":19,"t":1733140800250,"name":"dock"}
//	{"type":"custom","seq":20,"t":1733140800300,"data":{"arm":"up"}}
//
// Linear (forward positive) and angular (to the left positive) are
// speeds scaled to [-1, 1], as a ROS Twist's linear.x and angular.z; an
// action's name has 1 to 64 characters; a message has at most 1024
// bytes. The robot answers each command with {"type":"echo","seq":N,"t":T}
// when it ran it, or {"type":"refused","seq":N,"t":T,"why":W} when it did
// not: W is "stale", "order", "estop", "unsynced", "channel" (the page's
// E-stop channel has closed) or, with several viewers, "observer"
// (Refusal).
//
// The same channel carries the clock sync. The robot sends
// {"type":"sync","id":K,"t0":R0} when the channel opens, five more 50 ms
// apart, then one every Config.SyncInterval; the page answers at once
// with {"type":"sync-reply","id":K,"t0":R0,"t1":P1,"t2":P2}, its clock
// when the sync came and when it answered. From the reply arriving at t3
// the robot takes a sample, NTP's way:
//
//	rtt    = (t3 - t0) - (t2 - t1)
//	offset = ((t1 - t0) + (t2 - t3)) / 2   // the page's clock minus the robot's
//
// and keeps the last eight, using the one with the smallest round trip
// (the least queued). After each sample it tells the page its estimate,
// {"type":"clock","offset":O,"rtt":R,"err":U}, U being half the round
// trip: how far off the offset can be. Stats has the same figures.
//
// When the robot stops by itself it says so on this channel if it is
// still there: {"type":"stopped","why":W}, W being "deadman", "link",
// "channel", "estop" or "control" (StopReason).
//
// "estop" (EStopLabel, EStopChannelConfig) is reliable and ordered, apart
// from the commands so that a flood of them cannot hold an E-stop up. The
// page sends {"type":"estop","seq":N,"t":T} and
// {"type":"release","seq":N,"t":T}; the robot answers each with
// {"type":"estop-state","latched":B,"seq":N}, and sends one with seq 0
// when the channel opens so that a new page shows the latch.
//
// # Safety
//
// A command runs only when it passes the age gate: its age on the robot,
// now - (t - offset), is at most Config.MaxAge (250 ms by default); until
// the first clock sample every command is refused "unsynced". It must
// also be newer than the last command run: a seq at or below that one is
// a duplicate or was overtaken, and is refused "order". A new teleop
// channel is a new page, whose seq starts again from 1 and whose clock is
// measured afresh. A stop is the exception: stopping is always safe, so a
// stop runs and is echoed even when late, overtaken or unsynced, though
// only a fresh one counts for the order of later commands.
//
// The robot is driving while the last drive or stop it ran asked for
// motion (actions and custom commands leave that as it was). A driving
// robot stops — Config.OnStop runs, once per driving episode — when no
// valid command has come for Config.Deadman (300 ms by default), when the
// connection is disconnected, failed or closed, or when either channel
// closes. The deadman is checked every Config.CheckInterval (20 ms by
// default) on the Robot's one goroutine, so the stop comes between
// Deadman and Deadman + CheckInterval after the last command. A refused
// command does not keep the robot driving. Driving starts again only with
// a new command that passes the gate, so nothing sent before a loss of
// the link or of the page runs after it.
//
// An E-stop is never refused: it runs OnStop and Config.OnEStop(true) at
// once, and latches. While it is latched every command but a stop is
// refused "estop". Only a release that passes the age gate (so the clock
// must be synced) with a seq above every E-stop channel message before it
// unlatches it, and OnEStop(false) runs; any other release is answered
// latched true.
//
// Invalid messages on either channel are counted, logged and dropped;
// nothing else happens.
//
// # Several viewers
//
// A robot that several viewers watch at once (rtclink.Hub) lets one of
// them drive at a time with a [Control]: each viewer's session gets its
// Robot from Control.Robot, and Control.Leave ends a viewer's part. The
// first viewer drives; the others' commands, stops included, are refused
// "observer", but any viewer's E-stop stops the robot and latches it for
// everyone, and only that viewer (or the driver, once it has left)
// releases it. A viewer asks to drive with {"type":"control-request"} and
// the driver lets go with {"type":"control-release"}; every page is told
// who drives with {"type":"control","you":B,"driver":ID,"waiting":B} and
// a refused request's answer carries "why":"busy". By default a request is
// granted once the driver has left the robot still for DefaultIdle;
// ControlConfig.Grant sets another rule. A driver losing control while it
// moves the robot stops it first (StopControl).
//
// # Wiring it into a robot program
//
//	tp, _ := teleop.New(teleop.Config{
//		OnCommand: func(c teleop.Command) { motors.Drive(c.Linear, c.Angular) },
//		OnStop:    func(teleop.StopReason) { motors.Drive(0, 0) },
//		OnEStop:   func(latched bool) { motors.Brake(latched) },
//	})
//	defer tp.Close()
//	cfg := rtclink.Config{Signaler: sig, Role: rtclink.Offerer, Video: video}
//	tp.Wire(&cfg) // the teleop and estop channels, and their events
//	s, _ := rtclink.New(cfg)
//	tp.Attach(s) // answers, syncs and stopped messages go out through s
//
// Wire is short for adding Channels() to Config.Channels and passing
// OnData to Handle, OnChannel to HandleChannel and OnState to
// HandleState, keeping the program's own handlers.
//
// A program that passes only OnData still gets the gate and the deadman:
// the first message stands for the channel's opening, and a reloaded page
// is told apart by its seq starting again at a later time; the link and
// channel stops need OnState and OnChannel.
package teleop
