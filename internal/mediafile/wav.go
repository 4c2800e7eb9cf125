package mediafile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// WAVHeaderSize is the size of the header [WAVHeader] writes.
const WAVHeaderSize = 44

// WAVFormat is the PCM format of a WAV file. Only 16-bit PCM is read.
type WAVFormat struct {
	Rate     int
	Channels int
}

// ReadWAVHeader reads a RIFF/WAVE header up to the start of the sample
// data, skipping chunks it does not need. dataSize is the byte length of
// the data chunk, or -1 when the header does not say (0 or 0xFFFFFFFF, as
// a writer that never finished leaves it): then the data runs to the end
// of the file.
func ReadWAVHeader(r io.Reader) (f WAVFormat, dataSize int64, err error) {
	var b [12]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return f, 0, fmt.Errorf("wav header: %w", short(err, false))
	}
	if string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return f, 0, fmt.Errorf("wav header: signature %q…%q, want \"RIFF\"…\"WAVE\": %w", b[:4], b[8:12], ErrMalformed)
	}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return f, 0, fmt.Errorf("wav header: no data chunk: %w", short(err, false))
		}
		id := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return f, 0, fmt.Errorf("wav fmt chunk: size %d: %w", size, ErrMalformed)
			}
			body := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, body); err != nil {
				return f, 0, fmt.Errorf("wav fmt chunk: %w", short(err, false))
			}
			if f, err = parseFmt(body); err != nil {
				return f, 0, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return f, 0, fmt.Errorf("wav header: data chunk before fmt chunk: %w", ErrMalformed)
			}
			if size == 0 || size == 0xFFFFFFFF {
				size = -1
			}
			return f, size, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return f, 0, fmt.Errorf("wav %q chunk of %d bytes: %w", id, size, short(err, false))
			}
		}
	}
}

func parseFmt(b []byte) (WAVFormat, error) {
	tag := binary.LittleEndian.Uint16(b)
	f := WAVFormat{Channels: int(binary.LittleEndian.Uint16(b[2:])), Rate: int(binary.LittleEndian.Uint32(b[4:]))}
	align := int(binary.LittleEndian.Uint16(b[12:]))
	bits := int(binary.LittleEndian.Uint16(b[14:]))
	if tag == 0xFFFE && len(b) >= 40 { // WAVE_FORMAT_EXTENSIBLE: the sub-format says
		tag = binary.LittleEndian.Uint16(b[24:])
	}
	if tag != 1 {
		return f, fmt.Errorf("wav fmt chunk: format tag %#x, only PCM (1): %w", tag, ErrUnsupported)
	}
	if bits != 16 {
		return f, fmt.Errorf("wav fmt chunk: %d-bit samples, only 16-bit: %w", bits, ErrUnsupported)
	}
	if f.Channels <= 0 || f.Channels > 64 || f.Rate <= 0 || f.Rate > 1_000_000 || align != 2*f.Channels {
		return f, fmt.Errorf("wav fmt chunk: %d channels at %d Hz, block align %d: %w", f.Channels, f.Rate, align, ErrMalformed)
	}
	return f, nil
}

// WAVHeader returns a 44-byte header for 16-bit PCM with dataSize bytes
// of samples; math.MaxUint32 marks the size unknown.
func WAVHeader(f WAVFormat, dataSize uint32) []byte {
	b := make([]byte, 0, WAVHeaderSize)
	b = append(b, "RIFF"...)
	riff := uint32(math.MaxUint32) // unknown, as for dataSize
	if dataSize <= math.MaxUint32-36 {
		riff = 36 + dataSize
	}
	b = binary.LittleEndian.AppendUint32(b, riff)
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(f.Channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(f.Rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(f.Rate*f.Channels*2))
	b = binary.LittleEndian.AppendUint16(b, uint16(f.Channels*2))
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	return binary.LittleEndian.AppendUint32(b, dataSize)
}
