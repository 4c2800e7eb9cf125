package vpx_test

import (
	"errors"
	"testing"

	"github.com/avlink/avlink/internal/vpx"
	"github.com/avlink/avlink/internal/vpx/vpxtest"
)

func params(w, h int) vpx.EncoderParams {
	return vpx.EncoderParams{
		Width: w, Height: h, BitrateKbps: 500, MinQuantizer: 2, MaxQuantizer: 56,
		Speed: -6, Threads: 1, TimebaseDen: 90000, MaxIntraBitratePct: 900,
	}
}

func planes(w, h int, data []byte) (y, u, v []byte) {
	ysz, csz := w*h, ((w+1)/2)*((h+1)/2)
	return data[:ysz], data[ysz : ysz+csz], data[ysz+csz:]
}

func TestRoundTripAndReconfigure(t *testing.T) {
	const w, h = 320, 240
	enc, err := vpx.NewEncoder(params(w, h))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := vpx.NewDecoder(1)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for i := range 30 {
		if i == 10 || i == 11 {
			if err := enc.SetBitrateKbps(300); err != nil { // the second call is a no-op
				t.Fatal(err)
			}
		}
		f := vpxtest.Picture(w, h, i)
		y, u, v := planes(w, h, f.Data)
		out, key, err := enc.Encode(y, u, v, w, (w+1)/2, int64(i*3000), 3000, false)
		if err != nil {
			t.Fatal(err)
		}
		tag, ok := vpx.ParseFrameTag(out)
		if !ok || tag.Keyframe != key || key != (i == 0) {
			t.Fatalf("frame %d: tag %+v ok=%v, libvpx says key=%v", i, tag, ok, key)
		}
		if key && (tag.Width != w || tag.Height != h) {
			t.Fatalf("keyframe header says %dx%d", tag.Width, tag.Height)
		}
		pix, dw, dh, err := dec.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		if dw != w || dh != h {
			t.Fatalf("decoded %dx%d", dw, dh)
		}
		if p := vpxtest.PSNR(pix, f.Data); p < 30 {
			t.Fatalf("frame %d: PSNR %.1f dB", i, p)
		}
	}
	if n := enc.Reconfigs(); n != 1 {
		t.Fatalf("vpx_codec_enc_config_set called %d times, want 1", n)
	}
	if got := enc.Params().BitrateKbps; got != 300 {
		t.Fatalf("bitrate %d kbit/s", got)
	}
}

func TestClosed(t *testing.T) {
	enc, err := vpx.NewEncoder(params(64, 64))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := vpx.NewDecoder(1)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := dec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64*64*3/2)
	y, u, v := planes(64, 64, buf)
	if _, _, err := enc.Encode(y, u, v, 64, 32, 0, 1, false); !errors.Is(err, vpx.ErrClosed) {
		t.Fatalf("encode after close: %v", err)
	}
	if err := enc.SetBitrateKbps(100); !errors.Is(err, vpx.ErrClosed) {
		t.Fatalf("set bitrate after close: %v", err)
	}
	if _, _, _, err := dec.Decode([]byte{1, 2, 3}); !errors.Is(err, vpx.ErrClosed) {
		t.Fatalf("decode after close: %v", err)
	}
}

func TestBadParamsAndPlanes(t *testing.T) {
	if _, err := vpx.NewEncoder(params(0, 10)); !errors.Is(err, vpx.ErrInit) {
		t.Fatalf("zero width: %v", err)
	}
	enc, err := vpx.NewEncoder(params(64, 64))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	short := make([]byte, 10)
	if _, _, err := enc.Encode(short, short, short, 64, 32, 0, 1, false); !errors.Is(err, vpx.ErrBadImage) {
		t.Fatalf("short planes: %v", err)
	}
}

func TestParseFrameTag(t *testing.T) {
	// Keyframe, version 0, shown, first partition 0x123 bytes, 640x480.
	raw := uint32(0) | 1<<4 | 0x123<<5
	key := []byte{byte(raw), byte(raw >> 8), byte(raw >> 16), 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}
	tag, ok := vpx.ParseFrameTag(key)
	if !ok || !tag.Keyframe || !tag.Show || tag.FirstPartSize != 0x123 || tag.Width != 640 || tag.Height != 480 {
		t.Fatalf("keyframe tag %+v ok=%v", tag, ok)
	}
	inter := []byte{byte(raw) | 1, byte(raw >> 8), byte(raw >> 16)}
	if tag, ok := vpx.ParseFrameTag(inter); !ok || tag.Keyframe {
		t.Fatalf("inter tag %+v ok=%v", tag, ok)
	}
	bad := append([]byte(nil), key...)
	bad[4] = 0
	for _, b := range [][]byte{nil, {0}, key[:9], bad} {
		if _, ok := vpx.ParseFrameTag(b); ok {
			t.Fatalf("accepted % x", b)
		}
	}
}
