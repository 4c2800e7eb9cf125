package mediafile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// addTestdata seeds a fuzz target with the repository's sample files.
func addTestdata(f *testing.F, pattern string) {
	names, _ := filepath.Glob(filepath.Join("..", "..", "testdata", pattern))
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
}

// known reports whether err is one this package promises.
func known(err error) bool {
	return err == io.EOF || errors.Is(err, ErrMalformed) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrUnsupported)
}

func FuzzIVF(f *testing.F) {
	f.Add(ivfFile(vp8Key, []byte{1, 2, 3}))
	f.Add(ivfFile())
	f.Add([]byte("DKIF"))
	addTestdata(f, "*.ivf")
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		_, err := ReadIVFHeader(r)
		for i := 0; err == nil && i < 1000; i++ {
			var fr []byte
			fr, _, err = ReadIVFFrame(r)
			if err == nil && len(fr) > len(data) {
				t.Fatalf("frame of %d bytes from %d bytes of input", len(fr), len(data))
			}
			VP8Keyframe(fr)
		}
		if err != nil && !known(err) {
			t.Fatalf("unexpected error: %v", err)
		}
	})
}

func FuzzY4M(f *testing.F) {
	f.Add(y4mFile(Y4MHeader{Width: 4, Height: 2, FPSNum: 30, FPSDen: 1}, 2))
	f.Add([]byte("YUV4MPEG2 W3 H3 C422\n"))
	f.Add([]byte("YUV4MPEG2 W2 H2 F0:0 Ip A1:1 C420mpeg2 XYSCSS=420MPEG2\nFRAME Ixyz\n123456"))
	addTestdata(f, "*.y4m")
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		h, err := ReadY4MHeader(br)
		if err == nil && (h.Width <= 0 || h.Height <= 0 || h.Width > MaxDimension || h.Height > MaxDimension) {
			t.Fatalf("accepted size %dx%d", h.Width, h.Height)
		}
		if err == nil && h.FrameSize() > 4*len(data)+1<<16 {
			return // a valid header for frames larger than the input: do not allocate
		}
		for i := 0; err == nil && i < 1000; i++ {
			err = ReadY4MFrame(br, make([]byte, h.FrameSize()))
		}
		if err != nil && !known(err) {
			t.Fatalf("unexpected error: %v", err)
		}
	})
}

func FuzzWAV(f *testing.F) {
	f.Add(wavFile(WAVFormat{Rate: 48000, Channels: 1}, []int16{1, 2, 3}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVELIST\x01\x00\x00\x00a\x00"))
	addTestdata(f, "*.wav")
	f.Fuzz(func(t *testing.T, data []byte) {
		wf, n, err := ReadWAVHeader(bytes.NewReader(data))
		if err != nil && !known(err) {
			t.Fatalf("unexpected error: %v", err)
		}
		if err == nil && (wf.Channels <= 0 || wf.Rate <= 0 || n < -1) {
			t.Fatalf("accepted %+v, data size %d", wf, n)
		}
	})
}

func FuzzOgg(f *testing.F) {
	tags := []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")
	var seed []byte
	seed = append(seed, oggPage(2, 1, 0, []byte{19}, opusHead(1))...)
	seed = append(seed, oggPage(0, 1, 1, []byte{byte(len(tags))}, tags)...)
	seed = append(seed, oggPage(0, 1, 2, []byte{3, 3}, append(append([]byte(nil), silence...), silence...))...)
	f.Add(seed)
	addTestdata(f, "*.ogg")
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := NewOggOpusReader(bytes.NewReader(data))
		for i := 0; err == nil && i < 10000; i++ {
			var p []byte
			if p, err = o.Next(); err == nil {
				_, _ = OpusDuration(p)
			}
		}
		if err != nil && !known(err) {
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
