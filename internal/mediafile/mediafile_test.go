package mediafile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

func ivfFile(frames ...[]byte) []byte {
	b := IVFHeader{FourCC: "VP80", Width: 64, Height: 48, TimebaseDen: 1000, TimebaseNum: 1, Frames: uint32(len(frames))}.Marshal()
	for i, f := range frames {
		b = AppendIVFFrameHeader(b, len(f), uint64(i*33))
		b = append(b, f...)
	}
	return b
}

// vp8Key is the start of a VP8 keyframe of 64×48: frame tag, start code,
// size.
var vp8Key = []byte{0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 64, 0, 48, 0, 0, 0}

func TestIVFRoundTrip(t *testing.T) {
	file := ivfFile(vp8Key, []byte{0x31, 2, 3})
	r := bytes.NewReader(file)
	h, err := ReadIVFHeader(r)
	if err != nil || h.FourCC != "VP80" || h.Width != 64 || h.Height != 48 || h.Frames != 2 || h.TimebaseDen != 1000 {
		t.Fatalf("%+v %v", h, err)
	}
	f, pts, err := ReadIVFFrame(r)
	if err != nil || pts != 0 || !bytes.Equal(f, vp8Key) {
		t.Fatalf("frame 0: %x %d %v", f, pts, err)
	}
	if key, w, hh := VP8Keyframe(f); !key || w != 64 || hh != 48 {
		t.Errorf("keyframe %v %dx%d", key, w, hh)
	}
	f, pts, err = ReadIVFFrame(r)
	if err != nil || pts != 33 || len(f) != 3 {
		t.Fatalf("frame 1: %x %d %v", f, pts, err)
	}
	if key, _, _ := VP8Keyframe(f); key {
		t.Error("inter frame taken for a keyframe")
	}
	if _, _, err := ReadIVFFrame(r); err != io.EOF {
		t.Fatalf("end: %v, want io.EOF", err)
	}
}

func TestIVFErrors(t *testing.T) {
	good := ivfFile(vp8Key)
	bad := append([]byte(nil), good...)
	copy(bad, "RIFF")
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(huge[32:], MaxIVFFrame+1)
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"signature":  {bad, ErrMalformed},
		"short":      {good[:20], ErrTruncated},
		"frame head": {good[:38], ErrTruncated},
		"frame body": {good[:len(good)-1], ErrTruncated},
		"huge frame": {huge, ErrMalformed},
		"empty":      {nil, ErrTruncated},
		"zero base":  {append(append([]byte("DKIF"), 0, 0, 32, 0), make([]byte, 24)...), ErrMalformed},
	} {
		r := bytes.NewReader(c.data)
		_, err := ReadIVFHeader(r)
		for err == nil {
			_, _, err = ReadIVFFrame(r)
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func y4mFile(h Y4MHeader, frames int) []byte {
	b := h.Marshal()
	for i := 0; i < frames; i++ {
		b = append(b, "FRAME\n"...)
		b = append(b, bytes.Repeat([]byte{byte(i)}, h.FrameSize())...)
	}
	return b
}

func TestY4MRoundTrip(t *testing.T) {
	in := Y4MHeader{Width: 7, Height: 5, FPSNum: 30000, FPSDen: 1001, Colorspace: "420jpeg"}
	br := bufio.NewReader(bytes.NewReader(y4mFile(in, 2)))
	h, err := ReadY4MHeader(br)
	if err != nil || h != in {
		t.Fatalf("%+v %v", h, err)
	}
	if h.FrameSize() != 35+2*4*3 {
		t.Fatalf("frame size %d", h.FrameSize())
	}
	buf := make([]byte, h.FrameSize())
	for i := 0; i < 2; i++ {
		if err := ReadY4MFrame(br, buf); err != nil || buf[0] != byte(i) {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if err := ReadY4MFrame(br, buf); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestY4MErrors(t *testing.T) {
	good := y4mFile(Y4MHeader{Width: 8, Height: 8, FPSNum: 30, FPSDen: 1}, 1)
	for name, c := range map[string]struct {
		data string
		want error
	}{
		"signature":  {"YUV4MPEG3 W8 H8\n", ErrMalformed},
		"no size":    {"YUV4MPEG2 F30:1\n", ErrMalformed},
		"bad width":  {"YUV4MPEG2 W-8 H8\n", ErrMalformed},
		"huge":       {"YUV4MPEG2 W100000 H8\n", ErrMalformed},
		"422":        {"YUV4MPEG2 W8 H8 C422\n", ErrUnsupported},
		"444":        {"YUV4MPEG2 W8 H8 C444\n", ErrUnsupported},
		"interlaced": {"YUV4MPEG2 W8 H8 It\n", ErrUnsupported},
		"no newline": {"YUV4MPEG2 W8 H8", ErrTruncated},
		"empty":      {"", ErrTruncated},
		"long line":  {"YUV4MPEG2 " + string(bytes.Repeat([]byte("X"), 5000)) + "\n", ErrMalformed},
		"frame tag":  {"YUV4MPEG2 W8 H8\nFRAMX\n", ErrMalformed},
		"short body": {string(good[:len(good)-1]), ErrTruncated},
	} {
		br := bufio.NewReader(bytes.NewReader([]byte(c.data)))
		h, err := ReadY4MHeader(br)
		for err == nil {
			err = ReadY4MFrame(br, make([]byte, h.FrameSize()))
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func wavFile(f WAVFormat, samples []int16) []byte {
	b := WAVHeader(f, uint32(2*len(samples)))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func TestWAVRoundTripAndChunks(t *testing.T) {
	file := wavFile(WAVFormat{Rate: 44100, Channels: 2}, []int16{1, -1, 2, -2})
	r := bytes.NewReader(file)
	f, n, err := ReadWAVHeader(r)
	if err != nil || f.Rate != 44100 || f.Channels != 2 || n != 8 {
		t.Fatalf("%+v %d %v", f, n, err)
	}
	// A LIST chunk of odd length before fmt, and an unfinished data size.
	var b []byte
	b = append(b, "RIFF\x00\x00\x00\x00WAVELIST\x03\x00\x00\x00abc\x00"...)
	b = append(b, file[12:36]...)
	b = append(b, "data\xff\xff\xff\xff"...)
	f, n, err = ReadWAVHeader(bytes.NewReader(b))
	if err != nil || f.Rate != 44100 || n != -1 {
		t.Fatalf("with LIST: %+v %d %v", f, n, err)
	}
}

func TestWAVErrors(t *testing.T) {
	good := wavFile(WAVFormat{Rate: 8000, Channels: 1}, make([]int16, 4))
	float := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(float[20:], 3)
	bits24 := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(bits24[34:], 24)
	noFmt := append([]byte("RIFF\x00\x00\x00\x00WAVE"), good[36:]...)
	align := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(align[32:], 7)
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"signature": {append([]byte("RIFX"), good[4:]...), ErrMalformed},
		"short":     {good[:10], ErrTruncated},
		"no data":   {good[:36], ErrTruncated},
		"fmt cut":   {good[:30], ErrTruncated},
		"float":     {float, ErrUnsupported},
		"24-bit":    {bits24, ErrUnsupported},
		"no fmt":    {noFmt, ErrMalformed},
		"align":     {align, ErrMalformed},
		"chunk cut": {append([]byte("RIFF\x00\x00\x00\x00WAVEJUNK\xff\x00\x00\x00"), 1, 2), ErrTruncated},
	} {
		if _, _, err := ReadWAVHeader(bytes.NewReader(c.data)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// oggCRC is the Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not
// reflected, initial value 0.
func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// oggPage builds a page from raw lacing values and body.
func oggPage(flags byte, serial, seq uint32, lacing, body []byte) []byte {
	b := []byte("OggS\x00")
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = append(b, 0, 0, 0, 0, byte(len(lacing)))
	b = append(b, lacing...)
	b = append(b, body...)
	binary.LittleEndian.PutUint32(b[22:], oggCRC(b))
	return b
}

func opusHead(channels byte) []byte {
	b := append([]byte("OpusHead"), 1, channels, 0x38, 0x01)
	b = binary.LittleEndian.AppendUint32(b, 48000)
	return append(b, 0, 0, 0)
}

// silence is a 20 ms CELT packet of silence.
var silence = []byte{0xf8, 0xff, 0xfe}

func TestOggPacketsAcrossPages(t *testing.T) {
	tags := []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")
	big := bytes.Repeat([]byte{0xfc}, 300) // spans pages: 255 + 45
	var f []byte
	f = append(f, oggPage(2, 7, 0, []byte{19}, opusHead(2))...)
	f = append(f, oggPage(0, 7, 1, []byte{byte(len(tags))}, tags)...)
	// Two packets in one page, then one that continues on the next.
	body := append(append(append([]byte(nil), silence...), silence...), big[:255]...)
	f = append(f, oggPage(0, 7, 2, []byte{3, 3, 255}, body)...)
	f = append(f, oggPage(0, 99, 0, []byte{1}, []byte{1})...) // another stream
	f = append(f, oggPage(1, 7, 3, []byte{45}, big[255:])...)
	o, err := NewOggOpusReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if o.Head.Channels != 2 || o.Head.SampleRate != 48000 {
		t.Errorf("head %+v", o.Head)
	}
	for i, want := range [][]byte{silence, silence, big} {
		p, err := o.Next()
		if err != nil || !bytes.Equal(p, want) {
			t.Fatalf("packet %d: %d bytes, %v", i, len(p), err)
		}
	}
	if _, err := o.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	// Cut inside the continued packet.
	o, _ = NewOggOpusReader(bytes.NewReader(f[:len(f)-80]))
	var perr error
	for perr == nil {
		_, perr = o.Next()
	}
	if !errors.Is(perr, ErrTruncated) {
		t.Errorf("cut file: %v, want ErrTruncated", perr)
	}
}

func TestOggFromPionWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := oggwriter.NewWith(&buf, 48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := w.WriteRTP(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i)}, Payload: silence}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := NewOggOpusReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		p, err := o.Next()
		if err == io.EOF {
			break
		}
		if err != nil || !bytes.Equal(p, silence) {
			t.Fatalf("packet %d: %x %v", n, p, err)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("%d packets, want 5", n)
	}
	bad := append([]byte(nil), buf.Bytes()...)
	bad[len(bad)-2] ^= 0xff
	o, _ = NewOggOpusReader(bytes.NewReader(bad))
	for err = nil; err == nil; _, err = o.Next() {
	}
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("flipped byte: %v, want ErrMalformed", err)
	}
	if _, err := NewOggOpusReader(bytes.NewReader([]byte("OggS"))); !errors.Is(err, ErrTruncated) {
		t.Errorf("4 bytes: %v, want ErrTruncated", err)
	}
}

func TestOpusDuration(t *testing.T) {
	for _, c := range []struct {
		p    []byte
		want time.Duration
	}{
		{silence, 20 * time.Millisecond},
		{[]byte{0x08}, 20 * time.Millisecond},         // SILK NB 20 ms
		{[]byte{0x18}, 60 * time.Millisecond},         // SILK NB 60 ms
		{[]byte{0x78 | 1}, 40 * time.Millisecond},     // hybrid 20 ms, two frames
		{[]byte{0xe3, 0x03}, 7500 * time.Microsecond}, // CELT 2.5 ms, three frames
	} {
		if d, err := OpusDuration(c.p); err != nil || d != c.want {
			t.Errorf("%x: %v %v, want %v", c.p, d, err, c.want)
		}
	}
	if _, err := OpusDuration([]byte{0x1b, 0x03}); err == nil {
		t.Error("three 60 ms frames accepted")
	}
}
