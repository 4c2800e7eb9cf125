// avlink frame stamp reader: the same rules as the Go package
// github.com/avlink/avlink/capture/stamp. A W×H frame has 2 × 40 cells of
// W/40 × H/15 pixels at its top; 80 bits, MSB first: 48-bit Unix time in
// ms, 16-bit counter, CRC-16/CCITT-FALSE of the first 8 bytes.
(function (root) {
  'use strict';

  var COLUMNS = 40, BITS = 80, MIN_CONTRAST = 48;

  function crc16(bytes, n) {
    var crc = 0xffff;
    for (var i = 0; i < n; i++) {
      crc ^= bytes[i] << 8;
      for (var k = 0; k < 8; k++) {
        crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
      }
    }
    return crc;
  }

  // read decodes the stamp given a function returning the luma at x, y.
  function read(lumaAt, width, height) {
    if (width < COLUMNS || height < 15) return null;
    var cw = Math.floor(width / 40), ch = Math.floor(height / 15);
    var means = new Array(BITS), lo = 256, hi = -1;
    for (var bit = 0; bit < BITS; bit++) {
      var row = Math.floor(bit / COLUMNS), col = bit % COLUMNS;
      var x0 = col * cw + Math.floor(cw / 4), y0 = row * ch + Math.floor(ch / 4);
      var x1 = x0 + Math.max(1, Math.floor(cw / 2)), y1 = y0 + Math.max(1, Math.floor(ch / 2));
      var sum = 0;
      for (var y = y0; y < y1; y++) {
        for (var x = x0; x < x1; x++) sum += lumaAt(x, y);
      }
      var m = sum / ((x1 - x0) * (y1 - y0));
      means[bit] = m;
      if (m < lo) lo = m;
      if (m > hi) hi = m;
    }
    if (hi - lo < MIN_CONTRAST) return null;
    var thr = (lo + hi) / 2, msg = new Array(10);
    for (var i = 0; i < 10; i++) msg[i] = 0;
    for (bit = 0; bit < BITS; bit++) {
      if (means[bit] > thr) msg[bit >> 3] |= 0x80 >> (bit & 7);
    }
    if (((msg[8] << 8) | msg[9]) !== crc16(msg, 8)) return null;
    var ms = 0;
    for (i = 0; i < 6; i++) ms = ms * 256 + msg[i];
    return { timeMs: ms, counter: (msg[6] << 8) | msg[7] };
  }

  // readStampLuma reads a bare luma plane (any indexable array of bytes).
  function readStampLuma(luma, stride, width, height) {
    return read(function (x, y) { return luma[y * stride + x]; }, width, height);
  }

  // readStamp reads a canvas ImageData (RGBA), taking BT.601 luma. With
  // frameHeight, img holds only the top of a frame that many rows high:
  // the stamp's band, 2 * floor(frameHeight / 15) rows, is all it needs.
  function readStamp(img, frameHeight) {
    var d = img.data, w = img.width, h = img.height;
    if (frameHeight) {
      if (h < 2 * Math.floor(frameHeight / 15)) return null;
      h = frameHeight;
    }
    return read(function (x, y) {
      var p = (y * w + x) * 4;
      return ((66 * d[p] + 129 * d[p + 1] + 25 * d[p + 2] + 128) >> 8) + 16;
    }, img.width, h);
  }

  var api = { readStamp: readStamp, readStampLuma: readStampLuma, crc16: crc16 };
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.avlinkStamp = api;
  }
})(this);
