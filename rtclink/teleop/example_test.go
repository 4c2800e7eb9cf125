package teleop_test

import (
	"context"
	"fmt"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/rtclink/teleop"
)

// printer stands in for the robot's session.
type printer struct{}

func (printer) SendData(ch rtclink.Channel, data []byte) error {
	fmt.Printf("  to the page on %q: %s\n", ch, data)
	return nil
}

// stoppedClock reads 1700000000000 ms for ever, so that the example's
// output does not depend on the time it runs.
type stoppedClock struct{}

func (stoppedClock) Now() time.Time { return time.UnixMilli(1_700_000_000_000) }
func (stoppedClock) SleepUntil(ctx context.Context, _ time.Time) error {
	<-ctx.Done()
	return ctx.Err()
}

// A robot measures the page's clock, runs the fresh commands and
// refuses the others, and stops for the E-stop. In a program, the Handle
// methods are the session's callbacks (rtclink.Config.OnData, OnChannel,
// OnState) and Attach takes the session itself.
func ExampleRobot() {
	tp, err := teleop.New(teleop.Config{
		OnCommand: func(c teleop.Command) {
			fmt.Printf("%s #%d: linear %.1f, angular %.1f\n", c.Type, c.Seq, c.Linear, c.Angular)
		},
		OnStop:  func(why teleop.StopReason) { fmt.Printf("stop (%s)\n", why) },
		OnEStop: func(latched bool) { fmt.Printf("E-stop latched: %v\n", latched) },
		Clock:   stoppedClock{},
	})
	if err != nil {
		panic(err)
	}
	defer tp.Close()
	tp.Attach(printer{})
	page := func(ch rtclink.Channel, msg string) {
		fmt.Println("from the page:", msg)
		tp.Handle(ch, []byte(msg))
	}

	fmt.Println("the teleop channel opens")
	tp.HandleChannel(teleop.Label, true)
	// The page's clock is 5 s ahead; the path takes no time.
	page(teleop.Label, `{"type":"sync-reply","id":1,"t0":1700000000000,"t1":1700000005000,"t2":1700000005000}`)
	page(teleop.Label, `{"type":"drive","seq":1,"t":1700000004900,"linear":0.5,"angular":-0.2}`)
	page(teleop.Label, `{"type":"drive","seq":2,"t":1700000004000,"linear":0.5,"angular":0}`)
	page(teleop.Label, `{"type":"drive","seq":1,"t":1700000004900,"linear":0.5,"angular":-0.2}`)
	page(teleop.EStopLabel, `{"type":"estop","seq":1,"t":1700000005000}`)
	// Output:
	// the teleop channel opens
	//   to the page on "teleop": {"type":"sync","id":1,"t0":1700000000000}
	// from the page: {"type":"sync-reply","id":1,"t0":1700000000000,"t1":1700000005000,"t2":1700000005000}
	//   to the page on "teleop": {"type":"clock","offset":5000,"rtt":0,"err":0}
	// from the page: {"type":"drive","seq":1,"t":1700000004900,"linear":0.5,"angular":-0.2}
	// drive #1: linear 0.5, angular -0.2
	//   to the page on "teleop": {"type":"echo","seq":1,"t":1700000004900}
	// from the page: {"type":"drive","seq":2,"t":1700000004000,"linear":0.5,"angular":0}
	//   to the page on "teleop": {"type":"refused","seq":2,"t":1700000004000,"why":"stale"}
	// from the page: {"type":"drive","seq":1,"t":1700000004900,"linear":0.5,"angular":-0.2}
	//   to the page on "teleop": {"type":"refused","seq":1,"t":1700000004900,"why":"order"}
	// from the page: {"type":"estop","seq":1,"t":1700000005000}
	// stop (estop)
	//   to the page on "teleop": {"type":"stopped","why":"estop"}
	// E-stop latched: true
	//   to the page on "estop": {"type":"estop-state","latched":true,"seq":1}
}

// Parse reads the page's commands and rejects anything else.
func ExampleParse() {
	c, err := teleop.Parse([]byte(`{"type":"action","seq":4,"t":1200.5,"name":"dock"}`))
	fmt.Println(c.Type, c.Name, err)
	_, err = teleop.Parse([]byte(`{"type":"drive","seq":5,"t":1300,"linear":3}`))
	fmt.Println(err)
	// Output:
	// action dock <nil>
	// teleop: bad command: speed 3 / 0 outside [-1, 1]
}
