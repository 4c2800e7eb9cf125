package h264

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// streams are the Annex-B files in testdata, made by testdata/gen.py with
// libx264 (through PyAV); the expected values follow from the options
// there and were checked against libavcodec's own parser.
var streams = []struct {
	file          string
	plid, profile string
	w, h, frames  int
	fps           float64
}{
	{"baseline_320x240_30.h264", "42c01e", "Constrained Baseline", 320, 240, 12, 30},
	{"main_176x144_15.h264", "4d400b", "Main", 176, 144, 8, 15},
	{"high_640x360_25.h264", "64001f", "High", 640, 360, 6, 25},
	{"high_322x182_30.h264", "64000d", "High", 322, 182, 5, 30},
}

func readStream(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firstSPS(t testing.TB, data []byte) []byte {
	t.Helper()
	for _, n := range SplitAnnexB(data) {
		if NALType(n) == NALSPS {
			return n
		}
	}
	t.Fatal("no SPS")
	return nil
}

func TestParseSPSRealStreams(t *testing.T) {
	for _, s := range streams {
		t.Run(s.file, func(t *testing.T) {
			sps, err := ParseSPS(firstSPS(t, readStream(t, s.file)))
			if err != nil {
				t.Fatal(err)
			}
			if sps.ProfileLevelID() != s.plid || sps.ProfileName() != s.profile ||
				sps.Width != s.w || sps.Height != s.h || sps.FrameRate != s.fps {
				t.Fatalf("got %s %q %dx%d %g fps, want %s %q %dx%d %g fps",
					sps.ProfileLevelID(), sps.ProfileName(), sps.Width, sps.Height, sps.FrameRate,
					s.plid, s.profile, s.w, s.h, s.fps)
			}
			c := sps.Codec()
			if c.MimeType != "video/H264" || c.ClockRate != 90000 ||
				c.Fmtp != "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id="+s.plid {
				t.Fatalf("codec %+v", c)
			}
		})
	}
}

// bitWriter builds SPSs for the branches real x264 output does not take.
type bitWriter struct {
	b     []byte
	nbits int
}

func (w *bitWriter) u(n int, v uint32) {
	for i := n - 1; i >= 0; i-- {
		if w.nbits%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (7 - w.nbits%8)
		w.nbits++
	}
}

func (w *bitWriter) ue(v uint32) {
	v++
	n := 0
	for x := v; x > 1; x >>= 1 {
		n++
	}
	w.u(n, 0)
	w.u(n+1, v)
}

func (w *bitWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*v - 1))
	} else {
		w.ue(uint32(-2 * v))
	}
}

// escape inserts emulation prevention bytes, as an encoder does.
func escape(rbsp []byte) []byte {
	var out []byte
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

type spsOpts struct {
	profile, constraints, level uint8
	chroma                      uint32 // high profiles only
	scaling                     bool
	pocType                     uint32
	wMBs, hMapUnits             uint32
	frameMBsOnly                bool
	crop                        [4]uint32
	vuiSAR                      bool
	tick, scale                 uint32
}

func buildSPS(o spsOpts) []byte {
	w := &bitWriter{}
	w.u(8, uint32(o.profile))
	w.u(8, uint32(o.constraints))
	w.u(8, uint32(o.level))
	w.ue(0) // seq_parameter_set_id
	if highProfile(o.profile) {
		w.ue(o.chroma)
		if o.chroma == 3 {
			w.u(1, 0) // separate_colour_plane_flag
		}
		w.ue(2) // bit_depth_luma_minus8
		w.ue(2) // bit_depth_chroma_minus8
		w.u(1, 0)
		if o.scaling {
			w.u(1, 1)
			n := 8
			if o.chroma == 3 {
				n = 12
			}
			for i := range n {
				w.u(1, 1) // list present
				size := 16
				if i >= 6 {
					size = 64
				}
				for j := range size {
					if j == size-1 {
						w.se(-8) // brings nextScale to 0 at the last entry
					} else {
						w.se(0)
					}
				}
			}
		} else {
			w.u(1, 0)
		}
	}
	w.ue(0) // log2_max_frame_num_minus4
	w.ue(o.pocType)
	switch o.pocType {
	case 0:
		w.ue(2)
	case 1:
		w.u(1, 0)
		w.se(-3)
		w.se(5)
		w.ue(2)
		w.se(1)
		w.se(-1)
	}
	w.ue(1) // max_num_ref_frames
	w.u(1, 0)
	w.ue(o.wMBs - 1)
	w.ue(o.hMapUnits - 1)
	if o.frameMBsOnly {
		w.u(1, 1)
	} else {
		w.u(1, 0)
		w.u(1, 1) // mb_adaptive_frame_field_flag
	}
	w.u(1, 1) // direct_8x8_inference_flag
	if o.crop != [4]uint32{} {
		w.u(1, 1)
		for _, c := range o.crop {
			w.ue(c)
		}
	} else {
		w.u(1, 0)
	}
	if o.vuiSAR || o.scale != 0 {
		w.u(1, 1)
		if o.vuiSAR {
			w.u(1, 1)
			w.u(8, 255)
			w.u(16, 4)
			w.u(16, 3)
		} else {
			w.u(1, 0)
		}
		w.u(1, 0) // overscan
		w.u(1, 1) // video_signal_type_present_flag
		w.u(4, 5)
		w.u(1, 1)
		w.u(24, 0x010101)
		w.u(1, 1) // chroma_loc_info_present_flag
		w.ue(1)
		w.ue(1)
		w.u(1, 1)
		w.u(32, o.tick)
		w.u(32, o.scale)
		w.u(1, 1)
	} else {
		w.u(1, 0)
	}
	w.u(1, 1) // rbsp_stop_one_bit
	return append([]byte{0x67}, escape(w.b)...)
}

func TestParseSPSBranches(t *testing.T) {
	for _, c := range []struct {
		name       string
		o          spsOpts
		w, h       int
		fps        float64
		luma, chro int
	}{
		{"interlaced 1080i crop, poc type 1", spsOpts{profile: 77, level: 40, pocType: 1, wMBs: 120, hMapUnits: 34, crop: [4]uint32{0, 0, 0, 2}}, 1920, 1080, 0, 8, 8},
		{"high 10 with scaling lists and SAR", spsOpts{profile: 110, level: 41, chroma: 1, scaling: true, pocType: 2, wMBs: 80, hMapUnits: 45, frameMBsOnly: true, vuiSAR: true, tick: 1001, scale: 60000}, 1280, 720, 60000.0 / 2002, 10, 10},
		{"4:4:4 predictive, 12 lists, crop by 1", spsOpts{profile: 244, level: 50, chroma: 3, scaling: true, wMBs: 2, hMapUnits: 2, frameMBsOnly: true, crop: [4]uint32{1, 2, 3, 4}}, 29, 25, 0, 10, 10},
		{"4:2:2 crop", spsOpts{profile: 122, level: 30, chroma: 2, wMBs: 4, hMapUnits: 4, frameMBsOnly: true, crop: [4]uint32{1, 0, 1, 0}}, 62, 63, 0, 10, 10},
		{"monochrome crop", spsOpts{profile: 100, level: 30, chroma: 0, wMBs: 4, hMapUnits: 4, frameMBsOnly: true, crop: [4]uint32{1, 0, 1, 0}}, 63, 63, 0, 10, 10},
		{"level 1b baseline", spsOpts{profile: 66, constraints: 0xf0, level: 11, wMBs: 11, hMapUnits: 9, frameMBsOnly: true, tick: 1, scale: 30}, 176, 144, 15, 8, 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSPS(buildSPS(c.o))
			if err != nil {
				t.Fatal(err)
			}
			if s.Width != c.w || s.Height != c.h || s.FrameRate != c.fps || s.BitDepthLuma != c.luma || s.BitDepthChroma != c.chro {
				t.Fatalf("got %dx%d %g fps %d/%d bit, want %dx%d %g fps %d/%d bit",
					s.Width, s.Height, s.FrameRate, s.BitDepthLuma, s.BitDepthChroma, c.w, c.h, c.fps, c.luma, c.chro)
			}
			if s.FrameMBsOnly != c.o.frameMBsOnly {
				t.Fatalf("frame_mbs_only %v", s.FrameMBsOnly)
			}
		})
	}
	s, _ := ParseSPS(buildSPS(spsOpts{profile: 66, constraints: 0xf0, level: 11, wMBs: 1, hMapUnits: 1, frameMBsOnly: true}))
	if s.ProfileLevelID() != "42f00b" || s.ProfileName() != "Constrained Baseline" {
		t.Fatalf("level 1b: %s %s", s.ProfileLevelID(), s.ProfileName())
	}
}

func TestParseSPSErrors(t *testing.T) {
	good := firstSPS(t, readStream(t, streams[0].file))
	if _, err := ParseSPS([]byte{0x68, 0xce, 0x3c, 0x80}); !errors.Is(err, ErrNotSPS) {
		t.Fatalf("PPS: %v", err)
	}
	if _, err := ParseSPS(nil); !errors.Is(err, ErrNotSPS) {
		t.Fatalf("empty: %v", err)
	}
	for n := 1; n < 8; n++ {
		if _, err := ParseSPS(good[:n]); !errors.Is(err, ErrBadSPS) {
			t.Fatalf("SPS cut to %d bytes: %v", n, err)
		}
	}
	for _, o := range []spsOpts{
		{profile: 100, chroma: 4, wMBs: 1, hMapUnits: 1, frameMBsOnly: true},
		{profile: 66, pocType: 3, wMBs: 1, hMapUnits: 1, frameMBsOnly: true},
		{profile: 66, wMBs: 1, hMapUnits: 1, frameMBsOnly: true, crop: [4]uint32{8, 0, 0, 0}},
		{profile: 66, wMBs: 2000, hMapUnits: 1, frameMBsOnly: true},
	} {
		if _, err := ParseSPS(buildSPS(o)); !errors.Is(err, ErrBadSPS) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	// A VUI cut short costs the frame rate only.
	full := buildSPS(spsOpts{profile: 66, wMBs: 2, hMapUnits: 2, frameMBsOnly: true, tick: 1, scale: 50})
	s, err := ParseSPS(full[:len(full)-5])
	if err != nil || s.FrameRate != 0 || s.Width != 32 {
		t.Fatalf("truncated VUI: %+v, %v", s, err)
	}
}

func FuzzParseSPS(f *testing.F) {
	for _, s := range streams {
		f.Add(firstSPS(f, readStream(f, s.file)))
	}
	f.Add(buildSPS(spsOpts{profile: 244, level: 50, chroma: 3, scaling: true, wMBs: 2, hMapUnits: 2, frameMBsOnly: true, crop: [4]uint32{1, 2, 3, 4}}))
	f.Add(buildSPS(spsOpts{profile: 77, level: 40, pocType: 1, wMBs: 120, hMapUnits: 34, crop: [4]uint32{0, 0, 0, 2}, vuiSAR: true, tick: 1, scale: 60}))
	f.Fuzz(func(t *testing.T, nal []byte) {
		s, err := ParseSPS(nal)
		if err != nil {
			if !errors.Is(err, ErrBadSPS) && !errors.Is(err, ErrNotSPS) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if s.Width <= 0 || s.Height <= 0 || len(s.ProfileLevelID()) != 6 || s.FrameRate < 0 {
			t.Fatalf("accepted %+v", s)
		}
	})
}
