package vpx

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vp8cx.h>

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg;
	vpx_image_t img;
	vpx_codec_iter_t iter;
} avl_enc;

typedef struct {
	int width, height;
	int kbps, min_q, max_q;
	int speed, threads;
	int kf_max_dist; // <= 0: keyframes only on demand
	int drop_thresh;
	int timebase_den;
	int max_intra_pct;
	int noise_sensitivity;
} avl_enc_params;

// avl_enc_new creates and configures a VP8 encoder. On failure it returns
// NULL and stores the libvpx error code in *err.
static avl_enc *avl_enc_new(const avl_enc_params *p, int *err) {
	avl_enc *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		*err = VPX_CODEC_MEM_ERROR;
		return NULL;
	}
	vpx_codec_err_t res = vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &e->cfg, 0);
	if (res != VPX_CODEC_OK) {
		*err = res;
		free(e);
		return NULL;
	}
	vpx_codec_enc_cfg_t *c = &e->cfg;
	c->g_w = p->width;
	c->g_h = p->height;
	c->g_threads = p->threads;
	c->g_timebase.num = 1;
	c->g_timebase.den = p->timebase_den;
	c->g_lag_in_frames = 0;
	c->g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
	c->g_pass = VPX_RC_ONE_PASS;
	c->rc_end_usage = VPX_CBR;
	c->rc_target_bitrate = p->kbps;
	c->rc_min_quantizer = p->min_q;
	c->rc_max_quantizer = p->max_q;
	c->rc_undershoot_pct = 100;
	c->rc_overshoot_pct = 15;
	c->rc_buf_sz = 1000;
	c->rc_buf_initial_sz = 500;
	c->rc_buf_optimal_sz = 600;
	c->rc_resize_allowed = 0;
	c->rc_dropframe_thresh = p->drop_thresh;
	if (p->kf_max_dist > 0) {
		c->kf_mode = VPX_KF_AUTO;
		c->kf_min_dist = 0;
		c->kf_max_dist = p->kf_max_dist;
	} else {
		c->kf_mode = VPX_KF_DISABLED;
	}
	res = vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), c, 0);
	if (res != VPX_CODEC_OK) {
		*err = res;
		free(e);
		return NULL;
	}
	if ((res = vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, p->speed)) != VPX_CODEC_OK ||
	    (res = vpx_codec_control(&e->ctx, VP8E_SET_STATIC_THRESHOLD, 1u)) != VPX_CODEC_OK ||
	    (res = vpx_codec_control(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, (unsigned)p->noise_sensitivity)) != VPX_CODEC_OK ||
	    (res = vpx_codec_control(&e->ctx, VP8E_SET_TOKEN_PARTITIONS, (int)VP8_ONE_TOKENPARTITION)) != VPX_CODEC_OK ||
	    (res = vpx_codec_control(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, (unsigned)p->max_intra_pct)) != VPX_CODEC_OK) {
		*err = res;
		vpx_codec_destroy(&e->ctx);
		free(e);
		return NULL;
	}
	e->img.fmt = VPX_IMG_FMT_I420;
	e->img.cs = VPX_CS_BT_601;
	e->img.range = VPX_CR_STUDIO_RANGE;
	e->img.d_w = p->width;
	e->img.d_h = p->height;
	e->img.w = (p->width + 1) & ~1;
	e->img.h = (p->height + 1) & ~1;
	e->img.x_chroma_shift = 1;
	e->img.y_chroma_shift = 1;
	e->img.bps = 12;
	return e;
}

static void avl_enc_free(avl_enc *e) {
	vpx_codec_destroy(&e->ctx);
	free(e);
}

static int avl_enc_set_kbps(avl_enc *e, int kbps) {
	e->cfg.rc_target_bitrate = kbps;
	return vpx_codec_enc_config_set(&e->ctx, &e->cfg);
}

// avl_enc_encode encodes one frame whose planes live in Go memory. The
// image only points at them for the duration of the call: VP8 copies its
// source into its own lookahead buffer, and the pointers are cleared
// before returning.
static int avl_enc_encode(avl_enc *e, unsigned char *y, unsigned char *u, unsigned char *v,
                          int stride_y, int stride_uv, long long pts, unsigned long duration, int force_kf) {
	e->img.planes[VPX_PLANE_Y] = y;
	e->img.planes[VPX_PLANE_U] = u;
	e->img.planes[VPX_PLANE_V] = v;
	e->img.stride[VPX_PLANE_Y] = stride_y;
	e->img.stride[VPX_PLANE_U] = stride_uv;
	e->img.stride[VPX_PLANE_V] = stride_uv;
	vpx_enc_frame_flags_t flags = force_kf ? VPX_EFLAG_FORCE_KF : 0;
	vpx_codec_err_t res = vpx_codec_encode(&e->ctx, &e->img, pts, duration, flags, VPX_DL_REALTIME);
	memset(e->img.planes, 0, sizeof(e->img.planes));
	e->iter = NULL;
	return res;
}

// avl_enc_next returns the next compressed frame packet of the last
// encode, or 0 when there is none. The buffer stays valid until the next
// call to avl_enc_encode.
static int avl_enc_next(avl_enc *e, const void **buf, size_t *size, int *key) {
	const vpx_codec_cx_pkt_t *pkt;
	while ((pkt = vpx_codec_get_cx_data(&e->ctx, &e->iter)) != NULL) {
		if (pkt->kind == VPX_CODEC_CX_FRAME_PKT) {
			*buf = pkt->data.frame.buf;
			*size = pkt->data.frame.sz;
			*key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
			return 1;
		}
	}
	return 0;
}

static const char *avl_enc_error(avl_enc *e) {
	const char *d = vpx_codec_error_detail(&e->ctx);
	return d != NULL ? d : vpx_codec_error(&e->ctx);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// EncoderParams are the settings a VP8 encoder is created with. There are
// no defaults here: the caller (package capture/vp8) chooses every value.
type EncoderParams struct {
	Width, Height int
	// BitrateKbps is the CBR target in kbit/s.
	BitrateKbps int
	// MinQuantizer and MaxQuantizer bound the quantizer (0..63).
	MinQuantizer, MaxQuantizer int
	// Speed is VP8E_SET_CPUUSED, -16..16; negative values are the
	// realtime speeds libwebrtc uses (-6 on desktop).
	Speed int
	// Threads is the number of encoder threads.
	Threads int
	// KeyframeMaxDist is the largest distance between automatic keyframes,
	// in frames; 0 or less turns automatic keyframes off.
	KeyframeMaxDist int
	// DropFrameThreshold is the buffer fullness (percent) below which the
	// rate control may drop a frame; 0 never drops.
	DropFrameThreshold int
	// TimebaseDen is the denominator of the 1/TimebaseDen second unit that
	// pts and durations are counted in, for example 90000.
	TimebaseDen int
	// MaxIntraBitratePct caps a keyframe's size as a percentage of the
	// per-frame budget; 0 leaves it uncapped.
	MaxIntraBitratePct int
	// NoiseSensitivity is the temporal denoiser strength (0 off .. 6).
	NoiseSensitivity int
}

// Encoder is a configured libvpx VP8 encoder.
type Encoder struct {
	p         *C.avl_enc
	params    EncoderParams
	reconfigs int
}

// NewEncoder creates a VP8 encoder with p.
func NewEncoder(p EncoderParams) (*Encoder, error) {
	if p.Width <= 0 || p.Height <= 0 || p.Width > 16383 || p.Height > 16383 {
		return nil, fmt.Errorf("%w: size %dx%d outside 1..16383", ErrInit, p.Width, p.Height)
	}
	if p.TimebaseDen <= 0 || p.BitrateKbps <= 0 || p.Threads <= 0 {
		return nil, fmt.Errorf("%w: timebase %d, bitrate %d kbit/s, threads %d must be positive",
			ErrInit, p.TimebaseDen, p.BitrateKbps, p.Threads)
	}
	cp := C.avl_enc_params{
		width:             C.int(p.Width),
		height:            C.int(p.Height),
		kbps:              C.int(p.BitrateKbps),
		min_q:             C.int(p.MinQuantizer),
		max_q:             C.int(p.MaxQuantizer),
		speed:             C.int(p.Speed),
		threads:           C.int(p.Threads),
		kf_max_dist:       C.int(p.KeyframeMaxDist),
		drop_thresh:       C.int(p.DropFrameThreshold),
		timebase_den:      C.int(p.TimebaseDen),
		max_intra_pct:     C.int(p.MaxIntraBitratePct),
		noise_sensitivity: C.int(p.NoiseSensitivity),
	}
	var cerr C.int
	e := C.avl_enc_new(&cp, &cerr)
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrInit, C.GoString(C.vpx_codec_err_to_string(C.vpx_codec_err_t(cerr))))
	}
	return &Encoder{p: e, params: p}, nil
}

// Params returns the settings in effect, including the current bitrate.
func (e *Encoder) Params() EncoderParams { return e.params }

// Reconfigs counts the calls to vpx_codec_enc_config_set made so far.
func (e *Encoder) Reconfigs() int { return e.reconfigs }

// SetBitrateKbps changes the CBR target. libvpx is reconfigured only when
// kbps differs from the current target.
func (e *Encoder) SetBitrateKbps(kbps int) error {
	if e.p == nil {
		return ErrClosed
	}
	if kbps <= 0 {
		return fmt.Errorf("%w: bitrate %d kbit/s", ErrInit, kbps)
	}
	if kbps == e.params.BitrateKbps {
		return nil
	}
	e.reconfigs++
	if res := C.avl_enc_set_kbps(e.p, C.int(kbps)); res != C.VPX_CODEC_OK {
		return fmt.Errorf("%w: set bitrate %d kbit/s: %s", ErrInit, kbps, C.GoString(C.avl_enc_error(e.p)))
	}
	e.params.BitrateKbps = kbps
	return nil
}

// Encode encodes one I420 picture given as three planes. pts and
// duration are in 1/TimebaseDen seconds; pts must increase from frame to
// frame. It returns the compressed frame (a fresh slice owned by the
// caller), or nil when the rate control dropped the frame.
func (e *Encoder) Encode(y, u, v []byte, strideY, strideUV int, pts int64, duration uint64, forceKeyframe bool) ([]byte, bool, error) {
	if e.p == nil {
		return nil, false, ErrClosed
	}
	w, h := e.params.Width, e.params.Height
	cw, ch := (w+1)/2, (h+1)/2
	if strideY < w || strideUV < cw ||
		len(y) < strideY*(h-1)+w || len(u) < strideUV*(ch-1)+cw || len(v) < strideUV*(ch-1)+cw {
		return nil, false, fmt.Errorf("%w: %dx%d with strides %d/%d", ErrBadImage, w, h, strideY, strideUV)
	}
	kf := C.int(0)
	if forceKeyframe {
		kf = 1
	}
	res := C.avl_enc_encode(e.p,
		(*C.uchar)(unsafe.Pointer(&y[0])), (*C.uchar)(unsafe.Pointer(&u[0])), (*C.uchar)(unsafe.Pointer(&v[0])),
		C.int(strideY), C.int(strideUV), C.longlong(pts), C.ulong(duration), kf)
	if res != C.VPX_CODEC_OK {
		return nil, false, fmt.Errorf("%w: %s", ErrEncode, C.GoString(C.avl_enc_error(e.p)))
	}
	var (
		out []byte
		key bool
	)
	for {
		var (
			buf  unsafe.Pointer
			size C.size_t
			k    C.int
		)
		if C.avl_enc_next(e.p, &buf, &size, &k) == 0 {
			break
		}
		out = append(out, unsafe.Slice((*byte)(buf), int(size))...)
		key = key || k != 0
	}
	return out, key, nil
}

// Close releases the encoder. It is safe to call more than once.
func (e *Encoder) Close() error {
	if e.p != nil {
		C.avl_enc_free(e.p)
		e.p = nil
	}
	return nil
}
