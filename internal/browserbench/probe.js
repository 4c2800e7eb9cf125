// browserbench's measuring script, run in a receiving page before the
// page's own scripts. It notes when the page sends its join and when it
// hears another peer join the room, and at each requestVideoFrameCallback
// of a video element that plays a stream it reads the picture's capture
// stamp (capture/stamp) and takes the time the picture is shown, as the
// viewer page does. window.__browserbench.result() returns the figures
// (times in the page's performance.now() milliseconds); start() clears
// the latencies, so they cover a window that starts after a warm-up.
(function () {
  'use strict';
  if (window.__browserbench) return;
  const box = {};
  (function () {
    /*STAMP_JS*/
  }).call(box);
  const reader = box.avlinkStamp;
  // With warm audio, the browser's audio output is started now, before
  // any call: the first call in a page otherwise waits for it (hundreds
  // of milliseconds to seconds in a container with no sound card).
  if (/*WARM_AUDIO*/false) {
    try {
      window.__browserbenchAudio = new AudioContext();
    } catch (err) { /* no audio: nothing to warm */ }
  }

  const r = {
    pageJoinAt: null, joinedAt: null, robotJoinAt: null, offerAt: null, answerAt: null, firstFrameAt: null,
    frames: 0, stamped: 0, width: 0, height: 0,
    latencyMs: [], captureTimeMs: [], errors: [],
  };

  // Signaling, as the page's WebSocket carries it.
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (r.pageJoinAt === null || r.offerAt !== null || typeof e.data !== 'string') return;
        try {
          const m = JSON.parse(e.data);
          if (m.type === 'offer') {
            r.offerAt = performance.now();
            return;
          }
          if (r.robotJoinAt !== null) return;
          // Our server acknowledges the page's join.
          if (m.type === 'joined' && r.joinedAt === null) r.joinedAt = performance.now();
          // Our server announces a newcomer; the original Node.js server
          // forwards its join.
          if (m.type === 'peer-joined' || m.type === 'join') r.robotJoinAt = performance.now();
        } catch (err) { /* not JSON */ }
      });
    }
    send(data) {
      if ((r.pageJoinAt === null || r.answerAt === null) && typeof data === 'string') {
        try {
          const type = JSON.parse(data).type;
          if (type === 'join' && r.pageJoinAt === null) r.pageJoinAt = performance.now();
          if (type === 'answer' && r.answerAt === null) r.answerAt = performance.now();
        } catch (err) { /* not JSON */ }
      }
      return super.send(data);
    }
  };

  const band = document.createElement('canvas');
  const ctx = band.getContext('2d', { willReadFrequently: true });
  const watched = new WeakSet();

  function watch(video) {
    if (watched.has(video) || !video.requestVideoFrameCallback) return;
    watched.add(video);
    const onFrame = (now, meta) => {
      video.requestVideoFrameCallback(onFrame);
      // When the picture is shown, in this page's clock.
      const shownAt = meta.expectedDisplayTime || now;
      if (r.firstFrameAt === null) r.firstFrameAt = shownAt;
      r.frames++;
      const w = meta.width || video.videoWidth;
      const h = meta.height || video.videoHeight;
      r.width = w;
      r.height = h;
      if (typeof meta.captureTime === 'number' && meta.captureTime > 0) {
        r.captureTimeMs.push(shownAt - meta.captureTime);
      }
      if (!w || !h) return;
      try {
        const bh = Math.min(h, 2 * Math.floor(h / 15));
        if (band.width !== w) band.width = w;
        if (band.height !== bh) band.height = bh;
        ctx.drawImage(video, 0, 0, w, bh, 0, 0, w, bh);
        const st = reader.readStamp(ctx.getImageData(0, 0, w, bh), h);
        if (st) {
          r.stamped++;
          // Wall-clock time at which this picture is shown. A callback
          // run late on a loaded machine may draw a newer picture than
          // the one meta describes; that one is at least as old as it is
          // now, which the first term alone could put before its capture.
          const wallNow = Date.now();
          r.latencyMs.push(Math.max(wallNow + (shownAt - performance.now()), wallNow) - st.timeMs);
        }
      } catch (err) {
        if (r.errors.length < 10) r.errors.push(String(err));
      }
    };
    video.requestVideoFrameCallback(onFrame);
  }

  setInterval(() => {
    document.querySelectorAll('video').forEach((v) => {
      if (v.srcObject) watch(v);
    });
  }, 10);

  window.__browserbench = {
    start() {
      r.frames = r.stamped = 0;
      r.latencyMs = [];
      r.captureTimeMs = [];
    },
    result() {
      return r;
    },
  };
})();
