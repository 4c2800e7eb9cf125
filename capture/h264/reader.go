package h264

import (
	"errors"
	"fmt"
	"io"
)

const (
	// readChunk is how much the reader asks its source for at a time.
	readChunk = 64 << 10
	// MaxNALSize bounds one NAL unit read from a stream; a larger one is
	// taken for a stream that is not Annex-B.
	MaxNALSize = 16 << 20
)

// NALReader reads the NAL units of an Annex-B stream one at a time,
// without holding more than one NAL unit and a read chunk in memory.
type NALReader struct {
	r       io.Reader
	buf     []byte
	scanned int // bytes of buf already searched for a start code
	started bool
	eof     bool
	empty   int // consecutive reads that returned nothing
}

// NewNALReader returns a reader of the NAL units in r.
func NewNALReader(r io.Reader) *NALReader { return &NALReader{r: r} }

// Next returns the next NAL unit, without start code or trailing zero
// bytes, in a fresh slice. It returns io.EOF after the last one.
func (n *NALReader) Next() ([]byte, error) {
	for {
		if !n.started {
			if i := findStartCode(n.buf); i >= 0 {
				n.buf = n.buf[i+3:]
				n.started, n.scanned = true, 0
			} else if len(n.buf) > 2 {
				// Keep two bytes that may begin a start code.
				n.buf = n.buf[len(n.buf)-2:]
			}
		}
		if n.started {
			from := max(n.scanned-2, 0)
			if j := findStartCode(n.buf[from:]); j >= 0 {
				nal := trimZeros(n.buf[:from+j])
				n.buf = n.buf[from+j+3:]
				n.scanned = 0
				if len(nal) > 0 {
					return append([]byte(nil), nal...), nil
				}
				continue
			}
			n.scanned = len(n.buf)
			if len(n.buf) > MaxNALSize {
				return nil, fmt.Errorf("%w: over %d bytes", ErrNALTooLarge, MaxNALSize)
			}
		}
		if n.eof {
			if n.started {
				nal := trimZeros(n.buf)
				n.buf, n.started = nil, false
				if len(nal) > 0 {
					return append([]byte(nil), nal...), nil
				}
			}
			return nil, io.EOF
		}
		if err := n.fill(); err != nil {
			return nil, err
		}
	}
}

// fill appends what the source gives, up to the free capacity of buf, to
// buf; it makes room for at least a quarter chunk first.
func (n *NALReader) fill() error {
	if cap(n.buf)-len(n.buf) < readChunk/4 {
		nb := make([]byte, len(n.buf), 2*len(n.buf)+readChunk)
		copy(nb, n.buf)
		n.buf = nb
	}
	m, err := n.r.Read(n.buf[len(n.buf):cap(n.buf)])
	n.buf = n.buf[:len(n.buf)+m]
	if m == 0 && err == nil {
		if n.empty++; n.empty >= 100 {
			return fmt.Errorf("h264: read: %w", io.ErrNoProgress)
		}
	} else {
		n.empty = 0
	}
	switch {
	case errors.Is(err, io.EOF):
		n.eof = true
	case err != nil:
		return fmt.Errorf("h264: read: %w", err)
	}
	return nil
}

// Reset makes the reader start over on r, for example after seeking a
// file back to its start.
func (n *NALReader) Reset(r io.Reader) { *n = NALReader{r: r, buf: n.buf[:0]} }

func trimZeros(b []byte) []byte {
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	return b[:end]
}
