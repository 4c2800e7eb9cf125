package stamp

import _ "embed"

//go:embed stamp.js
var jsSource string

// JS returns stamp.js, the same reader for a browser page. Serve it or
// inline it; it defines avlinkStamp.readStamp(imageData), which takes a
// canvas ImageData (draw the video element onto a canvas, then
// getImageData) and returns {timeMs, counter} or null when the frame
// carries no readable stamp — readStamp(imageData, frameHeight) reads an
// ImageData of only the frame's top 2·(frameHeight/15) rows, the stamp's
// band, which is cheaper to take from a canvas — and
// avlinkStamp.readStampLuma(luma, stride,
// width, height) for a bare luma plane. Under Node it is a CommonJS module
// exporting the same functions.
func JS() []byte { return []byte(jsSource) }
