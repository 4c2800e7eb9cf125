package signal_test

import (
	"context"
	"fmt"

	"github.com/avlink/avlink/signal"
)

// Read a frame as the browser page sends it.
func ExampleParseMessage() {
	m, err := signal.ParseMessage([]byte(`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2130706431 192.168.1.5 50000 typ host","sdpMid":"0","sdpMLineIndex":0}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Type, *m.Candidate.SDPMid, *m.Candidate.SDPMLineIndex)
	_, err = signal.ParseMessage([]byte(`[1,2]`))
	fmt.Println(err)
	// Output:
	// candidate 0 0
	// signal: malformed message: not a JSON object
}

// pipe is a Signaler over Go channels: two of them, crossed, connect two
// sessions in one process without any server.
type pipe struct {
	in, out chan signal.Message
	done    chan struct{}
}

func (p *pipe) Send(ctx context.Context, m signal.Message) error {
	select {
	case p.out <- m:
		return nil
	case <-p.done:
		return signal.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pipe) Recv(ctx context.Context) (signal.Message, error) {
	select {
	case m := <-p.in:
		return m, nil
	case <-p.done:
		return signal.Message{}, signal.ErrClosed
	case <-ctx.Done():
		return signal.Message{}, ctx.Err()
	}
}

func (p *pipe) Close() error { close(p.done); return nil }

// Any transport can carry signaling: here, Go channels.
func ExampleSignaler() {
	ab, ba := make(chan signal.Message, 8), make(chan signal.Message, 8)
	var robot, viewer signal.Signaler = &pipe{in: ba, out: ab, done: make(chan struct{})}, &pipe{in: ab, out: ba, done: make(chan struct{})}
	defer robot.Close()
	defer viewer.Close()

	ctx := context.Background()
	_ = robot.Send(ctx, signal.Message{Type: signal.TypeOffer, SDP: "v=0"})
	m, _ := viewer.Recv(ctx)
	fmt.Println(m.Type, m.SDP)
	// Output: offer v=0
}
