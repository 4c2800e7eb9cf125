package cli

import (
	"log/slog"

	"github.com/avlink/avlink/rtclink/teleop"
)

// TeleopRobot is the example programs' end of the viewer page's teleop
// channels, configured by TeleopConfig. Wire it into the session's
// Config, Attach the session, Close it at the end.
func TeleopRobot(log *slog.Logger) (*teleop.Robot, error) {
	return teleop.New(TeleopConfig(log))
}

// TeleopConfig logs each command executed, each stop the robot makes by
// itself (deadman, link, channel, E-stop, control) and each E-stop latch.
// A robot's motor controller would take them here.
func TeleopConfig(log *slog.Logger) teleop.Config {
	return teleop.Config{
		OnCommand: func(c teleop.Command) {
			log.Info("teleop", "type", c.Type, "seq", c.Seq, "linear", c.Linear, "angular", c.Angular)
		},
		OnStop: func(why teleop.StopReason) { log.Warn("teleop: stopped", "why", why) },
		OnEStop: func(latched bool) {
			if latched {
				log.Warn("teleop: E-STOP latched")
			} else {
				log.Info("teleop: E-stop released")
			}
		},
		Logger: log,
	}
}
