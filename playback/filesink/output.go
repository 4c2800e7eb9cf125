package filesink

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// output buffers writes to w and remembers what can seek or close it.
type output struct {
	name   string
	bw     *bufio.Writer
	seeker io.WriteSeeker // nil if w cannot seek
	base   int64          // position of the output's start in seeker
	closer io.Closer      // set when the sink created the file
	closed bool
}

func newOutput(w io.Writer, name string) output {
	o := output{name: name, bw: bufio.NewWriterSize(w, 64<<10)}
	if ws, ok := w.(io.WriteSeeker); ok {
		if pos, err := ws.Seek(0, io.SeekCurrent); err == nil {
			o.seeker, o.base = ws, pos
		}
	}
	return o
}

func create(path string) (*os.File, error) {
	fh, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("filesink: %w", err)
	}
	return fh, nil
}

func (o *output) errorf(format string, args ...any) error {
	return fmt.Errorf("filesink: %s: "+format, append([]any{o.name}, args...)...)
}

// patch overwrites b at offset from the start of the output, when the
// output can seek, and leaves the position at the end. The buffer must
// be flushed first.
func (o *output) patch(offset int64, b []byte) error {
	if o.seeker == nil {
		return nil
	}
	end, err := o.seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := o.seeker.Seek(o.base+offset, io.SeekStart); err != nil {
		return err
	}
	if _, err := o.seeker.Write(b); err != nil {
		return err
	}
	_, err = o.seeker.Seek(end, io.SeekStart)
	return err
}

// finish closes the file if the sink created it.
func (o *output) finish(err error) error {
	o.closed = true
	if o.closer != nil {
		if cerr := o.closer.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return o.errorf("%w", err)
	}
	return nil
}
