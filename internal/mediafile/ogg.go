package mediafile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

const (
	oggPageHeader = 27
	maxOggPacket  = 1 << 20
)

// recorder keeps the first bytes read through it since the last reset:
// enough for an Ogg page header and its segment table, which pion's
// oggreader reads but does not expose.
type recorder struct {
	r   io.Reader
	buf []byte
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	if room := oggPageHeader + 255 - len(rc.buf); room > 0 {
		rc.buf = append(rc.buf, p[:min(n, room)]...)
	}
	return n, err
}

// OggOpusReader splits an Ogg/Opus stream into Opus packets. Pages are
// read and checksummed by pion's oggreader; packets are reassembled from
// the segment table, so pages holding several packets, and packets
// spanning pages, both work.
type OggOpusReader struct {
	// Head is the stream's OpusHead.
	Head    *oggreader.OggHeader
	rec     *recorder
	or      *oggreader.OggReader
	serial  uint32
	queue   [][]byte
	partial []byte
}

// NewOggOpusReader reads the OpusHead and OpusTags headers.
func NewOggOpusReader(r io.Reader) (*OggOpusReader, error) {
	rec := &recorder{r: r}
	or, head, err := oggreader.NewWith(rec)
	if err != nil {
		return nil, fmt.Errorf("ogg opus header: %w", oggError(err))
	}
	if len(rec.buf) < oggPageHeader {
		return nil, fmt.Errorf("ogg opus header: %w", ErrMalformed)
	}
	o := &OggOpusReader{Head: head, rec: rec, or: or, serial: binary.LittleEndian.Uint32(rec.buf[14:])}
	if head.Channels == 0 {
		return nil, fmt.Errorf("ogg opus header: zero channels: %w", ErrMalformed)
	}
	tags, err := o.next()
	if err == io.EOF {
		err = ErrTruncated
	}
	if err != nil {
		return nil, fmt.Errorf("ogg opus tags: %w", err)
	}
	if !bytes.HasPrefix(tags, []byte("OpusTags")) {
		return nil, fmt.Errorf("ogg opus tags: packet starts %.8q, want \"OpusTags\": %w", tags, ErrMalformed)
	}
	return o, nil
}

// Next returns the next Opus packet, or io.EOF at the end of the stream.
func (o *OggOpusReader) Next() ([]byte, error) {
	p, err := o.next()
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("ogg page: %w", err)
	}
	return p, err
}

func (o *OggOpusReader) next() ([]byte, error) {
	for len(o.queue) == 0 {
		o.rec.buf = o.rec.buf[:0]
		payload, _, err := o.or.ParseNextPage()
		if err != nil {
			if err == io.EOF && o.partial == nil {
				return nil, io.EOF
			}
			if err == io.EOF {
				return nil, fmt.Errorf("stream ends inside a packet: %w", ErrTruncated)
			}
			return nil, oggError(err)
		}
		h := o.rec.buf
		if len(h) < oggPageHeader || len(h) < oggPageHeader+int(h[26]) || string(h[:4]) != "OggS" {
			return nil, fmt.Errorf("page without the OggS capture pattern: %w", ErrMalformed)
		}
		if binary.LittleEndian.Uint32(h[14:]) != o.serial {
			continue // another logical stream
		}
		continued := h[5]&1 != 0
		if !continued {
			o.partial = nil
		}
		cur, off := o.partial, 0
		if continued && cur == nil {
			cur = []byte{} // the start of this packet is not in the file
		}
		for _, l := range h[oggPageHeader : oggPageHeader+int(h[26])] {
			cur = append(cur, payload[off:off+int(l)]...)
			off += int(l)
			if len(cur) > maxOggPacket {
				return nil, fmt.Errorf("packet over %d bytes: %w", maxOggPacket, ErrMalformed)
			}
			if l < 255 {
				if len(cur) > 0 {
					o.queue = append(o.queue, cur)
				}
				cur = nil
			}
		}
		o.partial = cur
	}
	p := o.queue[0]
	o.queue = o.queue[1:]
	return p, nil
}

func oggError(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%v: %w", err, ErrTruncated)
	default:
		return fmt.Errorf("%v: %w", err, ErrMalformed)
	}
}

// OpusDuration returns how long an Opus packet plays, from its TOC byte
// and frame count (RFC 6716, section 3.1).
func OpusDuration(p []byte) (time.Duration, error) {
	if len(p) == 0 {
		return 0, fmt.Errorf("empty opus packet: %w", ErrMalformed)
	}
	toc := p[0]
	var frame time.Duration
	switch cfg := toc >> 3; {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]time.Duration{10, 20, 40, 60}[cfg&3] * time.Millisecond
	case cfg < 16: // hybrid: 10, 20 ms
		frame = [2]time.Duration{10, 20}[cfg&1] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]time.Duration{2500, 5000, 10000, 20000}[cfg&3] * time.Microsecond
	}
	n := 1
	switch toc & 3 {
	case 1, 2:
		n = 2
	case 3:
		if len(p) < 2 || p[1]&0x3f == 0 {
			return 0, fmt.Errorf("opus packet with a bad frame count: %w", ErrMalformed)
		}
		n = int(p[1] & 0x3f)
	}
	d := time.Duration(n) * frame
	if d > 120*time.Millisecond {
		return 0, fmt.Errorf("opus packet of %v, over 120 ms: %w", d, ErrMalformed)
	}
	return d, nil
}
