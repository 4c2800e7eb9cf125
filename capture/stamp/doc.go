// Package stamp writes and reads the frame stamp every latency figure in
// avlink is measured with: a band of 2 × 40 black and white cells across
// the top of a video frame that carries the frame's capture time and a
// counter, readable after lossy coding.
//
// The format, which outside measurement tools read and write too: for a
// W×H frame, cells are cw = W/40 pixels wide and ch = H/15 high (integer
// division); the top 2·ch rows hold 2 rows × 40 columns of cells from x = 0,
// and the rest of those rows right of 40·cw is black. The 80 cells, row by
// row and most significant bit first, are 1 = white (luma 255) and 0 =
// black (luma 0): 6 bytes big-endian capture time in Unix milliseconds
// (low 48 bits), 2 bytes frame counter, and 2 bytes CRC-16/CCITT-FALSE over
// the first 8. A reader takes the mean luma over the central half of each
// cell and thresholds it half-way between the darkest and brightest cell;
// the stamp is unreadable when those differ by less than 48 or the CRC
// does not match.
//
// [JS] returns the same reader for a browser page, working on a canvas's
// ImageData.
package stamp
