package stamp

import _ "embed"

//go:embed stamp.js
var jsSource string

// JS returns stamp.js, the same reader for a browser page. Serve it or
// inline it; it defines avlinkStamp.readStamp(imageData), which takes a
// canvas ImageData (draw the video element onto a canvas, then
// getImageData) and returns {timeMs, counter} or null when the frame
// carries no readable stamp, and avlinkStamp.readStampLuma(luma, stride,
// width, height) for a bare luma plane. Under Node it is a CommonJS module
// exporting the same functions.
func JS() []byte { return []byte(jsSource) }
