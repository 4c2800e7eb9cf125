package v4l2

import (
	"errors"
	"testing"
)

// Any name either fails with ErrConfig or gives a code whose own name
// reads back as the same code.
func FuzzParseFourCC(f *testing.F) {
	for _, s := range []string{"z16", "Z16 ", "yuyv", "MJPG", "grey", "Y8I", "", " ", "a\x01", "toolong", "\xff\xfe", "rgb ", "nv1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseFourCC(s)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("ParseFourCC(%q): %v does not wrap ErrConfig", s, err)
			}
			return
		}
		back, err := ParseFourCC(c.String())
		if err != nil || back != c {
			t.Fatalf("ParseFourCC(%q) = %#x, whose name %q reads back as %#x, %v", s, uint32(c), c.String(), uint32(back), err)
		}
	})
}
