package teleop_test

import (
	"fmt"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
)

// printer stands in for the robot's session.
type printer struct{}

func (printer) SendData(ch rtclink.Channel, data []byte) error {
	fmt.Printf("to the page on %q: %s\n", ch, data)
	return nil
}

// A robot hands the page's commands to its motors and echoes them. In a
// program, OnData is the session's (rtclink.Config.OnData) and Attach
// takes the session itself.
func ExampleRobot() {
	tp, err := teleop.New(teleop.Config{
		OnCommand: func(c teleop.Command) {
			fmt.Printf("%s #%d: linear %.1f, angular %.1f\n", c.Type, c.Seq, c.Linear, c.Angular)
		},
	})
	if err != nil {
		panic(err)
	}
	tp.Attach(printer{})
	onData := func(ch rtclink.Channel, data []byte) {
		if !tp.Handle(ch, data) {
			fmt.Printf("message on %q\n", ch)
		}
	}
	onData(teleop.Label, []byte(`{"type":"drive","seq":1,"t":1200.5,"linear":0.5,"angular":-0.2}`))
	onData(teleop.Label, []byte(`{"type":"stop","seq":2,"t":1300}`))
	onData("telemetry", []byte(`{}`))
	// Output:
	// drive #1: linear 0.5, angular -0.2
	// to the page on "teleop": {"type":"echo","seq":1,"t":1200.5}
	// stop #2: linear 0.0, angular 0.0
	// to the page on "teleop": {"type":"echo","seq":2,"t":1300}
	// message on "telemetry"
}
