package h264

import (
	"fmt"

	"github.com/avlink/avlink/capture"
)

// SPS holds the fields of a sequence parameter set (H.264 7.3.2.1.1) that
// matter for signalling and playing a stream.
type SPS struct {
	// ProfileIDC is profile_idc: 66 Baseline, 77 Main, 100 High, ...
	ProfileIDC uint8
	// Constraints is the byte of constraint_set0..5 flags (most
	// significant first) and two reserved bits.
	Constraints uint8
	// LevelIDC is level_idc: ten times the level (31 is level 3.1).
	LevelIDC uint8
	// ID is seq_parameter_set_id.
	ID uint32
	// ChromaFormatIDC is 0 (monochrome), 1 (4:2:0), 2 (4:2:2) or 3 (4:4:4).
	ChromaFormatIDC uint32
	// BitDepthLuma and BitDepthChroma are the sample bit depths.
	BitDepthLuma, BitDepthChroma int
	// Width and Height are the picture size after cropping, in pixels.
	Width, Height int
	// FrameMBsOnly is false for interlaced (field or MBAFF) coding.
	FrameMBsOnly bool
	// MaxNumRefFrames is max_num_ref_frames.
	MaxNumRefFrames uint32
	// FrameRate is time_scale / (2 × num_units_in_tick) from the VUI
	// timing information, or 0 when the SPS has none.
	FrameRate float64
}

// ProfileLevelID returns the SDP profile-level-id (RFC 6184 8.1): the
// profile_idc, constraint flags and level_idc bytes in hexadecimal, for
// example "42e01f" for Constrained Baseline level 3.1.
func (s *SPS) ProfileLevelID() string {
	return fmt.Sprintf("%02x%02x%02x", s.ProfileIDC, s.Constraints, s.LevelIDC)
}

// ProfileName returns a readable name of the profile, such as
// "Constrained Baseline" or "High".
func (s *SPS) ProfileName() string {
	set := func(i uint) bool { return s.Constraints&(0x80>>i) != 0 }
	switch s.ProfileIDC {
	case 66:
		if set(1) {
			return "Constrained Baseline"
		}
		return "Baseline"
	case 77:
		return "Main"
	case 88:
		return "Extended"
	case 100:
		if set(4) && set(5) {
			return "Constrained High"
		}
		if set(4) {
			return "Progressive High"
		}
		return "High"
	case 110:
		return "High 10"
	case 122:
		return "High 4:2:2"
	case 244:
		return "High 4:4:4 Predictive"
	}
	return fmt.Sprintf("profile_idc %d", s.ProfileIDC)
}

// Fmtp returns the SDP format parameters for this stream, in the form
// browsers use: level-asymmetry-allowed=1, packetization-mode=1 (the
// non-interleaved mode every browser supports) and the stream's
// profile-level-id.
func (s *SPS) Fmtp() string {
	return "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + s.ProfileLevelID()
}

// Codec describes the stream for SDP: video/H264 on the 90 kHz clock with
// Fmtp.
func (s *SPS) Codec() capture.Codec {
	return capture.Codec{MimeType: "video/H264", ClockRate: 90000, Fmtp: s.Fmtp()}
}

// highProfile reports whether SPSs of profile p have the chroma format, bit depth and scaling matrix fields
// in their SPS (H.264 7.3.2.1.1).
func highProfile(p uint8) bool {
	switch p {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

// ParseSPS parses an SPS NAL unit (with its one-byte NAL header, without
// start code). It returns an error wrapping ErrNotSPS for another NAL type
// and ErrBadSPS for a truncated or invalid one.
func ParseSPS(nal []byte) (*SPS, error) {
	if NALType(nal) != NALSPS {
		return nil, fmt.Errorf("%w: type %d", ErrNotSPS, NALType(nal))
	}
	r := &bitReader{b: unescapeRBSP(nal[1:])}
	s := &SPS{
		ProfileIDC:      uint8(r.u(8)),
		Constraints:     uint8(r.u(8)),
		LevelIDC:        uint8(r.u(8)),
		ID:              r.ue(),
		ChromaFormatIDC: 1,
		BitDepthLuma:    8,
		BitDepthChroma:  8,
	}
	bad := func(format string, args ...any) (*SPS, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrBadSPS}, args...)...)
	}
	if s.ID > 31 {
		return bad("seq_parameter_set_id %d", s.ID)
	}
	separateColourPlane := false
	if highProfile(s.ProfileIDC) {
		s.ChromaFormatIDC = r.ue()
		if s.ChromaFormatIDC > 3 {
			return bad("chroma_format_idc %d", s.ChromaFormatIDC)
		}
		if s.ChromaFormatIDC == 3 {
			separateColourPlane = r.flag()
		}
		l, c := r.ue(), r.ue()
		if l > 6 || c > 6 {
			return bad("bit depth %d/%d", l+8, c+8)
		}
		s.BitDepthLuma, s.BitDepthChroma = int(l)+8, int(c)+8
		r.u(1)        // qpprime_y_zero_transform_bypass_flag
		if r.flag() { // seq_scaling_matrix_present_flag
			n := 8
			if s.ChromaFormatIDC == 3 {
				n = 12
			}
			for i := range n {
				if r.flag() {
					size := 16
					if i >= 6 {
						size = 64
					}
					skipScalingList(r, size)
				}
			}
		}
	}
	if v := r.ue(); v > 12 {
		return bad("log2_max_frame_num_minus4 %d", v)
	}
	switch poc := r.ue(); poc {
	case 0:
		if v := r.ue(); v > 12 {
			return bad("log2_max_pic_order_cnt_lsb_minus4 %d", v)
		}
	case 1:
		r.u(1) // delta_pic_order_always_zero_flag
		r.se() // offset_for_non_ref_pic
		r.se() // offset_for_top_to_bottom_field
		n := r.ue()
		if n > 255 {
			return bad("num_ref_frames_in_pic_order_cnt_cycle %d", n)
		}
		for range n {
			r.se()
		}
	case 2:
	default:
		return bad("pic_order_cnt_type %d", poc)
	}
	s.MaxNumRefFrames = r.ue()
	r.u(1) // gaps_in_frame_num_value_allowed_flag
	wMBs, hMapUnits := r.ue()+1, r.ue()+1
	s.FrameMBsOnly = r.flag()
	if !s.FrameMBsOnly {
		r.u(1) // mb_adaptive_frame_field_flag
	}
	r.u(1) // direct_8x8_inference_flag
	if r.err != nil {
		return nil, r.err
	}
	if wMBs > 1024 || hMapUnits > 1024 {
		return bad("picture of %dx%d macroblocks", wMBs, hMapUnits)
	}
	fieldMul := 1
	if !s.FrameMBsOnly {
		fieldMul = 2
	}
	w, h := int(wMBs)*16, fieldMul*int(hMapUnits)*16
	if r.flag() { // frame_cropping_flag
		cropX, cropY := 1, fieldMul
		if chroma := s.ChromaFormatIDC; !separateColourPlane && chroma != 0 {
			if chroma != 3 {
				cropX = 2
			}
			if chroma == 1 {
				cropY *= 2
			}
		}
		left, right, top, bottom := r.ue(), r.ue(), r.ue(), r.ue()
		cw := cropX * (int(min(left, 1<<16)) + int(min(right, 1<<16)))
		ch := cropY * (int(min(top, 1<<16)) + int(min(bottom, 1<<16)))
		if cw >= w || ch >= h {
			return bad("cropping %d+%d, %d+%d of %dx%d", left, right, top, bottom, w, h)
		}
		w, h = w-cw, h-ch
	}
	s.Width, s.Height = w, h
	if r.err != nil {
		return nil, r.err
	}
	if r.flag() { // vui_parameters_present_flag
		// The VUI is optional information: a damaged one costs the frame
		// rate, not the stream.
		if parseVUITiming(r, s); r.err != nil {
			s.FrameRate = 0
		}
	}
	return s, nil
}

// skipScalingList reads past a scaling_list() (H.264 7.3.2.1.1.1).
func skipScalingList(r *bitReader, size int) {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			next = (last + r.se() + 256) % 256
		}
		if next != 0 {
			last = next
		}
		if r.err != nil {
			return
		}
	}
}

// parseVUITiming reads the VUI (H.264 E.1.1) as far as its timing
// information and sets s.FrameRate from it.
func parseVUITiming(r *bitReader, s *SPS) {
	if r.flag() { // aspect_ratio_info_present_flag
		if r.u(8) == 255 { // Extended_SAR
			r.u(16)
			r.u(16)
		}
	}
	if r.flag() { // overscan_info_present_flag
		r.u(1)
	}
	if r.flag() { // video_signal_type_present_flag
		r.u(4) // video_format, video_full_range_flag
		if r.flag() {
			r.u(24) // colour_primaries, transfer_characteristics, matrix_coefficients
		}
	}
	if r.flag() { // chroma_loc_info_present_flag
		r.ue()
		r.ue()
	}
	if r.flag() { // timing_info_present_flag
		tick, scale := r.u(32), r.u(32)
		r.u(1) // fixed_frame_rate_flag
		if r.err == nil && tick > 0 && scale > 0 {
			s.FrameRate = float64(scale) / float64(2*uint64(tick))
		}
	}
}
