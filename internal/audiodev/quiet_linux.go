package audiodev

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

static void avlQuietALSA(const char *file, int line, const char *function, int err, const char *fmt, ...) {}
static void avlQuietJACK(const char *msg) {}

typedef int (*avlALSASetHandler)(void (*)(const char *, int, const char *, int, const char *, ...));
typedef void (*avlJACKSetFunction)(void (*)(const char *));

// avlQuiet installs silent error handlers in whichever of libasound and
// libjack the process has loaded (PortAudio links them), found with dlsym
// so that neither is linked here.
static void avlQuiet(void) {
	avlALSASetHandler alsa = (avlALSASetHandler)dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler");
	if (alsa != NULL) {
		alsa(avlQuietALSA);
	}
	avlJACKSetFunction jerr = (avlJACKSetFunction)dlsym(RTLD_DEFAULT, "jack_set_error_function");
	if (jerr != NULL) {
		jerr(avlQuietJACK);
	}
	avlJACKSetFunction jinfo = (avlJACKSetFunction)dlsym(RTLD_DEFAULT, "jack_set_info_function");
	if (jinfo != NULL) {
		jinfo(avlQuietJACK);
	}
}
*/
import "C"

// quiet silences ALSA's and JACK's stderr diagnostics.
func quiet() { C.avlQuiet() }
