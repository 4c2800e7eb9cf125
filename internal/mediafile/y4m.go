package mediafile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Y4MHeader is the stream header of a YUV4MPEG2 file. Only 4:2:0 streams
// are read; their frames are I420.
type Y4MHeader struct {
	Width, Height int
	// FPSNum/FPSDen is the frame rate; both are 0 if the file gives none.
	FPSNum, FPSDen int
	// Colorspace is the C parameter, "420jpeg" if absent.
	Colorspace string
}

// FrameSize returns the size of one I420 frame.
func (h Y4MHeader) FrameSize() int {
	return h.Width*h.Height + 2*((h.Width+1)/2)*((h.Height+1)/2)
}

// readLine reads one newline-terminated line of at most maxY4MLine bytes.
func readLine(br *bufio.Reader, what string) (string, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxY4MLine {
			return "", fmt.Errorf("y4m %s: line longer than %d bytes: %w", what, maxY4MLine, ErrMalformed)
		}
		if err == nil {
			return string(line[:len(line)-1]), nil
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(line) == 0 {
				return "", io.EOF
			}
			return "", fmt.Errorf("y4m %s: %w", what, short(err, false))
		}
	}
}

// ReadY4MHeader reads and checks the stream header.
func ReadY4MHeader(br *bufio.Reader) (Y4MHeader, error) {
	line, err := readLine(br, "header")
	if err == io.EOF {
		return Y4MHeader{}, fmt.Errorf("y4m header: empty file: %w", ErrTruncated)
	}
	if err != nil {
		return Y4MHeader{}, err
	}
	fields := strings.Split(line, " ")
	if fields[0] != "YUV4MPEG2" {
		return Y4MHeader{}, fmt.Errorf("y4m header: signature %.12q, want \"YUV4MPEG2\": %w", fields[0], ErrMalformed)
	}
	h := Y4MHeader{Colorspace: "420jpeg"}
	for _, f := range fields[1:] {
		if f == "" {
			continue
		}
		val := f[1:]
		switch f[0] {
		case 'W':
			h.Width, err = dimension(val)
		case 'H':
			h.Height, err = dimension(val)
		case 'F':
			num, den, ok := strings.Cut(val, ":")
			h.FPSNum, err = strconv.Atoi(num)
			if err == nil && ok {
				h.FPSDen, err = strconv.Atoi(den)
			}
			if err == nil && (h.FPSNum <= 0 || h.FPSDen <= 0) {
				h.FPSNum, h.FPSDen = 0, 0 // unknown rate
			}
		case 'C':
			h.Colorspace = val
		case 'I':
			if val != "p" && val != "?" {
				return Y4MHeader{}, fmt.Errorf("y4m header: interlacing %q, only progressive: %w", val, ErrUnsupported)
			}
		}
		if err != nil {
			return Y4MHeader{}, fmt.Errorf("y4m header: parameter %.20q: %w", f, ErrMalformed)
		}
	}
	if h.Width == 0 || h.Height == 0 {
		return Y4MHeader{}, fmt.Errorf("y4m header: no frame size (W and H): %w", ErrMalformed)
	}
	switch h.Colorspace {
	case "420jpeg", "420paldv", "420mpeg2", "420":
	default:
		return Y4MHeader{}, fmt.Errorf("y4m header: colour space %.20q, only 4:2:0 (C420jpeg, C420paldv, C420mpeg2, C420): %w", h.Colorspace, ErrUnsupported)
	}
	return h, nil
}

func dimension(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 || v > MaxDimension {
		return 0, ErrMalformed
	}
	return v, nil
}

// Marshal returns the header line, newline included.
func (h Y4MHeader) Marshal() []byte {
	cs := h.Colorspace
	if cs == "" {
		cs = "420jpeg"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "YUV4MPEG2 W%d H%d", h.Width, h.Height)
	if h.FPSNum > 0 && h.FPSDen > 0 {
		fmt.Fprintf(&b, " F%d:%d", h.FPSNum, h.FPSDen)
	}
	fmt.Fprintf(&b, " Ip A1:1 C%s\n", cs)
	return b.Bytes()
}

// ReadY4MFrame reads the next frame into dst, which must be FrameSize
// bytes long. It returns io.EOF at a clean end of file.
func ReadY4MFrame(br *bufio.Reader, dst []byte) error {
	line, err := readLine(br, "frame header")
	if err != nil {
		return err
	}
	if tag, _, _ := strings.Cut(line, " "); tag != "FRAME" {
		return fmt.Errorf("y4m frame header: %.12q, want \"FRAME\": %w", line, ErrMalformed)
	}
	if _, err := io.ReadFull(br, dst); err != nil {
		return fmt.Errorf("y4m frame: %d bytes expected: %w", len(dst), short(err, false))
	}
	return nil
}
