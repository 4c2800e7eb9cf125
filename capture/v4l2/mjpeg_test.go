package v4l2

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"strings"
	"testing"

	"github.com/avlink/avlink/capture"
)

func cameraJPEG(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/camera_640x480_422.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// UVC cameras often send MJPEG without Huffman tables; such frames
// decode as if JPEG's standard tables were there.
func TestMJPEGWithoutHuffmanTables(t *testing.T) {
	full := cameraJPEG(t)
	bare := stripDHT(full)
	if len(bare) >= len(full) || bytes.Contains(bare[:bytes.Index(bare, []byte{0xff, 0xda})], []byte{0xff, 0xc4}) {
		t.Fatal("stripDHT left the tables in")
	}
	if _, err := jpeg.Decode(bytes.NewReader(bare)); err == nil {
		t.Fatal("image/jpeg decodes a frame without Huffman tables by itself; the insertion is not needed")
	}
	img, err := jpeg.Decode(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := img.(*image.YCbCr); !ok || m.SubsampleRatio != image.YCbCrSubsampleRatio422 {
		t.Fatalf("test picture is %T, want 4:2:2 YCbCr", img)
	}
	var want capture.VideoFrame
	if err := capture.ImageToI420(&want, img); err != nil {
		t.Fatal(err)
	}
	var scratch []byte
	for name, data := range map[string][]byte{"with tables": full, "without tables": bare} {
		var got capture.VideoFrame
		if err := decodeMJPEG(&got, data, 640, 480, &scratch); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Width != 640 || got.Height != 480 || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("%s: decoded differently", name)
		}
	}
}

func TestStandardHuffmanTables(t *testing.T) {
	dht := standardDHT()
	// DC luminance (class 0, id 0) from JPEG Annex K.3: code counts for
	// lengths 1..16, then the twelve symbols 0..11.
	want := []byte{0xff, 0xc4, 0x01, 0xa2, 0x00,
		0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	if !bytes.HasPrefix(dht, want) || len(dht) != 2+0x1a2 {
		t.Fatalf("standard DHT segment starts % x (%d bytes)", dht[:min(len(dht), len(want))], len(dht))
	}
}

func TestMJPEGErrors(t *testing.T) {
	var f capture.VideoFrame
	var scratch []byte
	if err := decodeMJPEG(&f, []byte("not a jpeg"), 640, 480, &scratch); !errors.Is(err, errNotJPEG) {
		t.Fatalf("garbage: %v", err)
	}
	full := cameraJPEG(t)
	if err := decodeMJPEG(&f, full[:len(full)/2], 640, 480, &scratch); err == nil {
		t.Fatal("a truncated frame decoded")
	}
	if err := decodeMJPEG(&f, full, 320, 240, &scratch); err == nil || !strings.Contains(err.Error(), "640x480 in a 320x240 stream") {
		t.Fatalf("a frame of the wrong size: %v", err)
	}
}

func FuzzDecodeMJPEG(f *testing.F) {
	full := cameraJPEG(f)
	f.Add(stripDHT(full)[:2000])
	f.Add(full[:600])
	f.Add([]byte{0xff, 0xd8, 0xff, 0xda, 0, 2, 0xff, 0xd9})
	f.Add([]byte{0xff, 0xd8, 0xff, 0xff, 0xff, 0xe0, 0, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr capture.VideoFrame
		var scratch []byte
		if err := decodeMJPEG(&fr, data, 640, 480, &scratch); err == nil {
			if err := fr.Validate(); err != nil {
				t.Fatalf("decoded frame is malformed: %v", err)
			}
		}
	})
}
