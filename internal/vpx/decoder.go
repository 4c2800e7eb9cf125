package vpx

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8dx.h>

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_iter_t iter;
	vpx_image_t *img;
} avl_dec;

static avl_dec *avl_dec_new(int threads, int *err) {
	avl_dec *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		*err = VPX_CODEC_MEM_ERROR;
		return NULL;
	}
	vpx_codec_dec_cfg_t cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.threads = threads;
	vpx_codec_err_t res = vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, 0);
	if (res != VPX_CODEC_OK) {
		*err = res;
		free(d);
		return NULL;
	}
	return d;
}

static void avl_dec_free(avl_dec *d) {
	vpx_codec_destroy(&d->ctx);
	free(d);
}

// avl_dec_decode decodes one frame from Go memory, which libvpx reads only
// during the call. It reports whether the decoder marked the result as
// corrupt and the size of the picture it produced (0x0 for none).
static int avl_dec_decode(avl_dec *d, const unsigned char *data, unsigned int size,
                          int *corrupt, int *w, int *h) {
	*corrupt = 0;
	*w = 0;
	*h = 0;
	d->img = NULL;
	vpx_codec_err_t res = vpx_codec_decode(&d->ctx, data, size, NULL, 0);
	if (res != VPX_CODEC_OK) {
		return res;
	}
	int c = 0;
	if (vpx_codec_control(&d->ctx, VP8D_GET_FRAME_CORRUPTED, &c) == VPX_CODEC_OK) {
		*corrupt = c;
	}
	d->iter = NULL;
	d->img = vpx_codec_get_frame(&d->ctx, &d->iter);
	if (d->img != NULL) {
		if (d->img->fmt != VPX_IMG_FMT_I420) {
			d->img = NULL;
			return VPX_CODEC_UNSUP_FEATURE;
		}
		*w = d->img->d_w;
		*h = d->img->d_h;
	}
	return VPX_CODEC_OK;
}

// avl_dec_copy copies the last decoded picture, without its row padding,
// into dst, which holds w*h + 2*((w+1)/2)*((h+1)/2) bytes.
static void avl_dec_copy(avl_dec *d, unsigned char *dst) {
	vpx_image_t *img = d->img;
	int w = img->d_w, h = img->d_h;
	int cw = (w + 1) / 2, ch = (h + 1) / 2;
	for (int r = 0; r < h; r++) {
		memcpy(dst, img->planes[VPX_PLANE_Y] + (size_t)r * img->stride[VPX_PLANE_Y], w);
		dst += w;
	}
	for (int p = VPX_PLANE_U; p <= VPX_PLANE_V; p++) {
		for (int r = 0; r < ch; r++) {
			memcpy(dst, img->planes[p] + (size_t)r * img->stride[p], cw);
			dst += cw;
		}
	}
}

static const char *avl_dec_error(avl_dec *d) {
	const char *s = vpx_codec_error_detail(&d->ctx);
	return s != NULL ? s : vpx_codec_error(&d->ctx);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Decoder is a libvpx VP8 decoder.
type Decoder struct {
	p *C.avl_dec
}

// NewDecoder creates a VP8 decoder using threads threads (at least 1).
func NewDecoder(threads int) (*Decoder, error) {
	if threads < 1 {
		threads = 1
	}
	var cerr C.int
	d := C.avl_dec_new(C.int(threads), &cerr)
	if d == nil {
		return nil, fmt.Errorf("%w: %s", ErrInit, C.GoString(C.vpx_codec_err_to_string(C.vpx_codec_err_t(cerr))))
	}
	return &Decoder{p: d}, nil
}

// Decode decodes one compressed frame and returns the picture as a
// tightly packed I420 buffer (a fresh slice owned by the caller) with its
// size, or a nil buffer when the frame produced no picture. A frame that
// libvpx flags as corrupt returns the picture together with [ErrCorrupt].
func (d *Decoder) Decode(data []byte) (pix []byte, width, height int, err error) {
	return d.DecodeInto(data, nil)
}

// DecodeInto is Decode writing the picture into dst when it is large
// enough, so a caller can reuse one buffer for every frame.
func (d *Decoder) DecodeInto(data, dst []byte) (pix []byte, width, height int, err error) {
	if d.p == nil {
		return nil, 0, 0, ErrClosed
	}
	if len(data) == 0 {
		return nil, 0, 0, fmt.Errorf("%w: empty frame", ErrDecode)
	}
	var corrupt, w, h C.int
	res := C.avl_dec_decode(d.p, (*C.uchar)(unsafe.Pointer(&data[0])), C.uint(len(data)), &corrupt, &w, &h)
	if res != C.VPX_CODEC_OK {
		return nil, 0, 0, fmt.Errorf("%w: %s", ErrDecode, C.GoString(C.avl_dec_error(d.p)))
	}
	if w == 0 || h == 0 {
		return nil, 0, 0, nil
	}
	width, height = int(w), int(h)
	size := width*height + 2*((width+1)/2)*((height+1)/2)
	if cap(dst) >= size {
		pix = dst[:size]
	} else {
		pix = make([]byte, size)
	}
	C.avl_dec_copy(d.p, (*C.uchar)(unsafe.Pointer(&pix[0])))
	if corrupt != 0 {
		return pix, width, height, ErrCorrupt
	}
	return pix, width, height, nil
}

// Close releases the decoder. It is safe to call more than once.
func (d *Decoder) Close() error {
	if d.p != nil {
		C.avl_dec_free(d.p)
		d.p = nil
	}
	return nil
}
