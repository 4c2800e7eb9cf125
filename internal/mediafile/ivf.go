package mediafile

import (
	"encoding/binary"
	"fmt"
	"io"
)

// IVFHeaderSize and IVFFrameHeaderSize are the sizes of the file header
// and of the header before each frame.
const (
	IVFHeaderSize      = 32
	IVFFrameHeaderSize = 12
)

// IVFHeader is the header of an IVF file. Timestamps are in units of
// TimebaseNum/TimebaseDen seconds.
type IVFHeader struct {
	FourCC        string // "VP80", "VP90" or "AV01"
	Width, Height uint16
	TimebaseDen   uint32
	TimebaseNum   uint32
	Frames        uint32
}

// ReadIVFHeader reads and checks an IVF file header.
func ReadIVFHeader(r io.Reader) (IVFHeader, error) {
	var b [IVFHeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return IVFHeader{}, fmt.Errorf("ivf header: %w", short(err, false))
	}
	if string(b[:4]) != "DKIF" {
		return IVFHeader{}, fmt.Errorf("ivf header: signature %q, want \"DKIF\": %w", b[:4], ErrMalformed)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != 0 {
		return IVFHeader{}, fmt.Errorf("ivf header: version %d: %w", v, ErrUnsupported)
	}
	hl := int(binary.LittleEndian.Uint16(b[6:]))
	if hl < IVFHeaderSize {
		return IVFHeader{}, fmt.Errorf("ivf header: header length %d, at least 32: %w", hl, ErrMalformed)
	}
	h := IVFHeader{
		FourCC:      string(b[8:12]),
		Width:       binary.LittleEndian.Uint16(b[12:]),
		Height:      binary.LittleEndian.Uint16(b[14:]),
		TimebaseDen: binary.LittleEndian.Uint32(b[16:]),
		TimebaseNum: binary.LittleEndian.Uint32(b[20:]),
		Frames:      binary.LittleEndian.Uint32(b[24:]),
	}
	if h.TimebaseDen == 0 || h.TimebaseNum == 0 {
		return IVFHeader{}, fmt.Errorf("ivf header: time base %d/%d: %w", h.TimebaseNum, h.TimebaseDen, ErrMalformed)
	}
	if hl > IVFHeaderSize {
		if _, err := io.CopyN(io.Discard, r, int64(hl-IVFHeaderSize)); err != nil {
			return IVFHeader{}, fmt.Errorf("ivf header: %w", short(err, false))
		}
	}
	return h, nil
}

// Marshal returns the 32-byte header.
func (h IVFHeader) Marshal() []byte {
	b := make([]byte, IVFHeaderSize)
	copy(b, "DKIF")
	binary.LittleEndian.PutUint16(b[6:], IVFHeaderSize)
	copy(b[8:12], h.FourCC)
	binary.LittleEndian.PutUint16(b[12:], h.Width)
	binary.LittleEndian.PutUint16(b[14:], h.Height)
	binary.LittleEndian.PutUint32(b[16:], h.TimebaseDen)
	binary.LittleEndian.PutUint32(b[20:], h.TimebaseNum)
	binary.LittleEndian.PutUint32(b[24:], h.Frames)
	return b
}

// ReadIVFFrame reads one frame and its timestamp. It returns io.EOF at a
// clean end of file and an error wrapping ErrTruncated if the file ends
// inside a frame.
func ReadIVFFrame(r io.Reader) ([]byte, uint64, error) {
	var b [IVFFrameHeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		return nil, 0, fmt.Errorf("ivf frame header: %w", short(err, false))
	}
	n := binary.LittleEndian.Uint32(b[:])
	pts := binary.LittleEndian.Uint64(b[4:])
	if n > MaxIVFFrame {
		return nil, 0, fmt.Errorf("ivf frame: size %d over the %d limit: %w", n, MaxIVFFrame, ErrMalformed)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, 0, fmt.Errorf("ivf frame at pts %d: %d bytes declared: %w", pts, n, short(err, false))
	}
	return data, pts, nil
}

// AppendIVFFrameHeader appends the header of a frame of size bytes.
func AppendIVFFrameHeader(b []byte, size int, pts uint64) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	return binary.LittleEndian.AppendUint64(b, pts)
}

// VP8Keyframe reports whether a VP8 frame is a keyframe and, if so, the
// picture size its header declares.
func VP8Keyframe(frame []byte) (key bool, width, height int) {
	if len(frame) < 10 || frame[0]&1 != 0 {
		return false, 0, 0
	}
	if frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return true, 0, 0
	}
	return true, int(binary.LittleEndian.Uint16(frame[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(frame[8:]) & 0x3fff)
}
