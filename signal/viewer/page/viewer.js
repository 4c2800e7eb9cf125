// The avlink viewer page. It joins a room of the signaling server it was
// served by, answers the robot's offers (avlink's rtclink robot or the
// original deployment's Python aiortc robot), trickles its candidates,
// plays the robot's video and audio from one MediaStream, sends the
// microphone back when asked, and drives the robot over its "teleop" data
// channel (answering the robot's clock sync there) with an E-stop on its
// "estop" channel. Driving turns itself off while the video is frozen or
// late. A robot that sends several cameras (several video tracks, each
// named by its track id) gets a tile for each; the one shown large is the
// one the stamps, figures and lockout follow. It recovers by itself when
// the robot, the signaling server or the network goes away for a while.
//
// window.avlinkViewer.state() returns a copy of what the page shows, for
// scripts and tests.
(function () {
  'use strict';

  const params = new URLSearchParams(location.search);
  const room = params.get('room') || 'realsense';
  const token = params.get('token') || '';
  const relayOnly = params.get('relay') === '1';
  const rawMic = params.get('mic') === 'raw';

  // msParam reads a duration in milliseconds from the URL: def when it is
  // missing or not a number >= 0; 0 turns its check off.
  function msParam(name, def) {
    const v = params.get(name);
    const n = v === null || v === '' ? NaN : Number(v);
    return Number.isFinite(n) && n >= 0 ? n : def;
  }
  const staleMs = msParam('stale', 500); // no new picture for this long: no driving
  const maxLatencyMs = msParam('maxlatency', 1000); // capture to screen over this: no driving

  // pageNow is the page's clock of the teleop protocol: milliseconds since
  // the Unix epoch, monotonic within the page.
  const pageNow = () => performance.timeOrigin + performance.now();

  const $ = (id) => document.getElementById(id);
  const video = $('video');

  // state is what the page knows; render() shows it.
  const state = {
    room: room,
    relayOnly: relayOnly,
    signaling: 'connecting', // connecting, open, closed
    signalingConnects: 0,
    selfId: '',
    joinedAt: 0,
    robot: '', // the id of the robot of the current call
    robotInRoom: false,
    calls: 0, // peer connections made
    offers: 0, // offers answered
    connection: 'none', // the current peer connection's state
    everConnected: false,
    failedRelay: false, // relay only, and the relay refused us
    iceErrors: [],
    localCandidates: 0,
    videoCodec: '', audioCodec: '',
    framesDecoded: 0, frameWidth: 0, frameHeight: 0, fps: 0, // the large camera's
    // cameras: one per video track of the call, in the order they came:
    // {name, large, frames (pictures shown, in its tile or large),
    // framesDecoded, width, height, fps}. camera: the large one's name.
    cameras: [], camera: '',
    bitrate: 0, // bit/s, all inbound RTP
    rttMs: null,
    pair: null, // {local, remote, relayed}
    audioPackets: 0,
    stampsRead: 0, latencyMs: null,
    mic: 'off', // off, asking, on, failed
    micSent: false,
    teleop: {
      open: false, sent: 0, echoes: 0, rttMs: null, last: null,
      ackAgeMs: null, // page clock now - t of the newest echo
      syncs: 0, // sync-replies sent
      refused: 0, lastRefused: null, // {seq, why}
      stopped: 0, lastStopped: null, // {why}
      alert: '', // the refusal or stop shown under the picture
    },
    clock: null, // the robot's estimate {offset, rtt, err}: offset = page clock - robot clock
    // With several viewers, who drives: {you, driver, waiting}; null
    // when the robot does not say (then this page drives).
    control: null,
    estop: { available: false, latched: false, pending: '', sent: 0, acks: 0 },
    lockout: {
      locked: false, reason: '', text: '', // reason: 'stale' or 'latency'
      count: 0, // times it locked while the teleop channel was open
      since: null, // page clock when it locked
      lastFrame: null, // page clock of the last new picture
    },
    drive: '', // why driving is off: '', 'estop', 'stale' or 'latency'
    limits: { staleMs: staleMs, maxLatencyMs: maxLatencyMs },
    graphs: { latency: [], rtt: [], bitrate: [], fps: [] }, // one value a second, the last 60
    graphDraws: 0,
    message: '', messageKind: '',
    events: [],
  };

  function note(text) {
    const line = new Date().toISOString().slice(11, 23) + ' ' + text;
    state.events.push(line);
    if (state.events.length > 60) state.events.shift();
    const li = document.createElement('li');
    li.textContent = line;
    const ol = $('events');
    ol.appendChild(li);
    while (ol.children.length > 60) ol.removeChild(ol.firstChild);
  }

  function showMessage(text, kind) {
    state.message = text || '';
    state.messageKind = text ? (kind || 'error') : '';
    const el = $('message');
    el.hidden = !text;
    el.textContent = text || '';
    el.dataset.kind = kind || 'error';
    if (text) note((kind === 'info' ? 'note: ' : 'error: ') + text);
  }

  // ---- Signaling: a WebSocket to the server this page came from, which
  // reconnects by itself and rejoins the room with the same id.

  let ws = null;
  let backoff = 500;
  let reconnectTimer = null;

  function signalingURL() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return proto + '//' + location.host + '/' + (token ? '?token=' + encodeURIComponent(token) : '');
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  function connectSignaling() {
    reconnectTimer = null;
    state.signaling = 'connecting';
    render();
    let sock;
    try {
      sock = new WebSocket(signalingURL());
    } catch (e) {
      showMessage('Cannot open the signaling connection: ' + e);
      return;
    }
    ws = sock;
    sock.onopen = () => {
      backoff = 500;
      state.signaling = 'open';
      state.signalingConnects++;
      const join = { type: 'join', room: room };
      if (state.selfId) join.id = state.selfId; // keep our id: the robot still knows it
      send(join);
      note(state.signalingConnects > 1 ? 'signaling back, rejoining ' + room : 'signaling open, joining ' + room);
      if (state.message.startsWith('Signaling')) showMessage('');
      render();
    };
    sock.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        note('unreadable signaling message dropped');
        return;
      }
      enqueue(msg);
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      state.signaling = 'closed';
      const wait = backoff;
      backoff = Math.min(backoff * 2, 5000);
      note('signaling closed, retrying in ' + (wait / 1000) + ' s');
      if (!isConnected()) {
        showMessage('Signaling server unreachable; retrying every few seconds.', 'info');
      }
      reconnectTimer = setTimeout(connectSignaling, wait + Math.random() * 250);
      render();
    };
  }

  // announce joins the room again: the server tells its members, and a
  // robot with no call offers to us. It is how the page asks for a fresh
  // offer after a failure the robot did not repair.
  function announce(why) {
    if (isConnected() || state.signaling !== 'open') return;
    const join = { type: 'join', room: room };
    if (state.selfId) join.id = state.selfId;
    if (send(join)) note('asking the room for an offer (' + why + ')');
  }

  // Messages are handled one at a time, in order: each may wait for the
  // peer connection.
  let chain = Promise.resolve();
  function enqueue(msg) {
    chain = chain.then(() => handle(msg)).catch((e) => {
      note('error handling ' + msg.type + ': ' + e);
    });
  }

  async function handle(msg) {
    switch (msg.type) {
      case 'joined':
        state.selfId = msg.id || '';
        state.robotInRoom = Array.isArray(msg.peers) && msg.peers.length > 0;
        state.joinedAt = Date.now();
        if (!call) prefetchIce();
        setTimeout(render, 3100);
        note('joined ' + msg.room + ' as ' + msg.id + ', ' + (msg.peers || []).length + ' other peer(s)');
        break;
      case 'peer-joined': {
        state.robotInRoom = true;
        if (!isConnected()) prefetchIce();
        if (call) call.newcomer = msg.peer;
        note('peer ' + msg.peer + ' joined');
        // A robot that joins offers to the peers it finds, but it may
        // pick another one (the lingering connection of the robot it
        // replaces): if no offer comes, say we are here.
        const offers = state.offers;
        if (!isConnected()) {
          setTimeout(() => {
            if (state.offers === offers) announce('a peer joined and did not call');
          }, 1500);
        }
        break;
      }
      case 'peer-left':
        note('peer ' + msg.peer + ' left');
        if (call && msg.peer === call.robot) {
          state.robotInRoom = false;
          // Gone for good (a restarted robot has a new id) unless its
          // media still flows. Another robot in the room may have
          // offered to the one that left: tell the room we are here.
          if (!isConnected()) setTimeout(() => announce('the robot left'), 1000);
        }
        break;
      case 'offer':
        await onOffer(msg);
        break;
      case 'answer':
        await onAnswer(msg);
        break;
      case 'candidate':
        await onCandidate(msg);
        break;
      case 'error':
        if (msg.code === 'viewers-full') {
          // From the robot, not the server: we stay in the room and are
          // called when a place frees up.
          note('the robot is full: ' + (msg.message || ''));
          showMessage('The robot is serving as many viewers as it can: ' + (msg.message || 'wait for a place') + '.');
          break;
        }
        note('server refused: ' + (msg.code || '') + ' ' + (msg.message || ''));
        if (msg.code === 'room-full') showMessage('The room "' + room + '" is full.');
        break;
      case 'join':
        // The original deployment's Node.js server forwards joins instead
        // of announcing peers.
        state.robotInRoom = true;
        break;
    }
    render();
  }

  // ---- The call: one RTCPeerConnection per robot; a robot that comes
  // back with a new id gets a new one.

  let call = null;
  const early = new Map(); // sender -> candidates that came before its offer

  // ICE servers are fetched ahead of the robot's offer (when the page
  // joins, when a peer joins, when a call ends), so answering does not
  // wait for a round trip to the server; a fetched answer is used once,
  // and only while fresh, since its TURN credentials are minted for it.
  // The peer connection is made ahead too: the browser spends tens of ms
  // setting one up (its certificate, its media engines), which would
  // otherwise come between the robot's offer and our answer.
  const ICE_FRESH_MS = 30000;
  let icePrefetch = null;
  function prefetchIce() {
    // One made moments ago is warm already: a robot's offer often follows
    // its join within tens of ms.
    if (icePrefetch && Date.now() - icePrefetch.at < ICE_FRESH_MS / 2) return;
    dropPrefetch();
    const cfg = iceConfiguration();
    const pc = cfg.then((c) => new RTCPeerConnection(c)).catch(() => null);
    icePrefetch = { at: Date.now(), cfg: cfg, pc: pc };
  }
  function dropPrefetch() {
    if (icePrefetch) icePrefetch.pc.then((pc) => pc && pc.close());
    icePrefetch = null;
  }
  // takeIce returns the ICE configuration and a fresh peer connection
  // made with it.
  async function takeIce() {
    const p = icePrefetch;
    icePrefetch = null;
    if (p && Date.now() - p.at < ICE_FRESH_MS) {
      const cfg = await p.cfg;
      const pc = await p.pc;
      if (pc && pc.signalingState === 'stable' && !pc.remoteDescription) return { cfg: cfg, pc: pc };
      if (pc) pc.close();
      return { cfg: cfg, pc: new RTCPeerConnection(cfg) };
    }
    if (p) p.pc.then((pc) => pc && pc.close());
    const cfg = await iceConfiguration();
    return { cfg: cfg, pc: new RTCPeerConnection(cfg) };
  }

  async function iceConfiguration() {
    const url = '/ice-servers' + (token ? '?token=' + encodeURIComponent(token) : '');
    let cfg;
    try {
      const resp = await fetch(url, { cache: 'no-store' });
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      cfg = await resp.json();
    } catch (e) {
      note('no ICE servers from the server (' + e.message + '), using host candidates only');
      cfg = { iceServers: [] };
    }
    cfg.bundlePolicy = 'max-bundle';
    if (relayOnly) cfg.iceTransportPolicy = 'relay';
    return cfg;
  }

  function isConnected() {
    return call && call.pc.connectionState === 'connected';
  }

  async function newCall(robot) {
    if (call) closeCall('a new offer from ' + (robot || 'the room'));
    const { cfg, pc } = await takeIce();
    const c = {
      pc: pc, robot: robot, makingOffer: false, wantOffer: false, pending: [], gathered: false,
      micSender: null, failedTimer: null,
    };
    call = c;
    state.calls++;
    state.robot = robot;
    state.connection = pc.connectionState;
    state.iceErrors = [];
    state.localCandidates = 0;
    state.pair = null;
    state.rttMs = null;
    state.framesDecoded = state.frameWidth = state.frameHeight = state.fps = state.bitrate = 0;
    clearCameras();
    c.stream = new MediaStream(); // what #video plays: the large camera and the audio
    state.audioPackets = 0;
    state.latencyMs = null;
    latencies.length = 0;
    lastFrameAt = 0;
    recentLatencies.length = 0;
    statsPrev = null;
    const turns = cfg.iceServers.filter((s) => [].concat(s.urls).some((u) => /^turns?:/.test(u))).length;
    note('new call with ' + (robot || 'the room') + ' (' + cfg.iceServers.length + ' ICE server(s), ' + turns + ' TURN' + (relayOnly ? ', relay only' : '') + ')');

    pc.onicecandidate = (e) => {
      if (call !== c) return;
      if (!e.candidate || !e.candidate.candidate) {
        c.gathered = true;
        if (relayOnly && state.localCandidates === 0) relayFailed();
        return;
      }
      state.localCandidates++;
      const m = { type: 'candidate', candidate: e.candidate.toJSON() };
      if (c.robot) m.to = c.robot;
      send(m);
    };
    pc.onicecandidateerror = (e) => {
      if (call !== c) return;
      const err = { url: e.url || '', code: e.errorCode, text: e.errorText || '' };
      state.iceErrors.push(err);
      note('ICE server error ' + err.code + ' ' + err.text + ' at ' + err.url);
      if (/^turns?:/.test(err.url) && err.code >= 400 && err.code < 500) {
        const why = 'The TURN server ' + err.url.replace(/\?.*$/, '') + ' refused the relay credentials (' +
          err.code + ' ' + err.text.replace(/\.$/, '') + '): they are wrong or expired. Check that the signaling ' +
          'server\'s TURN secret (-turn-secret) is the TURN server\'s, and that both clocks are right.';
        showMessage(why, relayOnly ? 'error' : 'info');
        if (relayOnly) relayFailed(why);
      } else if (/^turns?:/.test(err.url) && relayOnly && err.code === 701) {
        showMessage('The TURN server ' + err.url.replace(/\?.*$/, '') + ' cannot be reached.');
      }
    };
    pc.onicegatheringstatechange = () => {
      if (call === c && pc.iceGatheringState === 'complete') {
        c.gathered = true;
        if (relayOnly && state.localCandidates === 0) relayFailed();
      }
    };
    pc.onconnectionstatechange = () => {
      if (call !== c) return;
      state.connection = pc.connectionState;
      note('connection ' + pc.connectionState);
      clearTimeout(c.failedTimer);
      if (pc.connectionState === 'disconnected' && c.newcomer && c.newcomer !== c.robot) {
        // Our robot went quiet after another peer came: most likely it
        // is the same robot, restarted, that offered to its old self.
        announce('the robot went quiet after ' + c.newcomer + ' joined');
      }
      if (pc.connectionState === 'connected') {
        state.everConnected = true;
        // Notes about getting here are done with; a TURN refusal stays
        // (the call may be direct, but the relay is still misconfigured).
        if (/^(The connection|Signaling|The robot is serving)/.test(state.message)) showMessage('');
      } else if (pc.connectionState === 'failed') {
        if (!state.failedRelay) showMessage('The connection to the robot failed; waiting for it to call again.', 'info');
        // The robot restarts ICE itself; if it does not, ask it to, and
        // ask the room for a new call as well.
        c.failedTimer = setTimeout(() => {
          if (call === c && pc.connectionState === 'failed' && state.signaling === 'open') {
            if (state.robotInRoom) {
              note('no new offer from the robot: restarting ICE from this side');
              c.wantOffer = true;
              pc.restartIce();
            }
            announce('the call failed');
          }
        }, 6000);
      }
      render();
    };
    pc.ontrack = (e) => {
      if (call !== c) return;
      if (e.track.kind === 'video') {
        const cam = addCamera(c, e);
        note('video track from the robot (' + cam.pub.name + ')');
      } else {
        if (!c.stream.getTrackById(e.track.id)) playTracks(c, c.stream.getTracks().concat(e.track));
        note(e.track.kind + ' track from the robot');
      }
      if (video.srcObject !== c.stream) {
        video.srcObject = c.stream;
        video.play().catch(() => {});
      }
      // A track the robot stops sending leaves its stream.
      for (const st of e.streams) {
        st.onremovetrack = (ev) => {
          if (call === c) dropCamera(c, ev.track, 'removed');
        };
      }
      watchFrames();
    };
    pc.ondatachannel = (e) => {
      if (call !== c) return;
      note('data channel "' + e.channel.label + '"');
      if (e.channel.label === 'teleop') attachTeleop(e.channel);
      if (e.channel.label === 'estop') attachEstop(e.channel);
    };
    pc.onnegotiationneeded = async () => {
      // Something this side added (the microphone) or an ICE restart of
      // its own: offer it to the robot. Only then: a robot that will not
      // take the microphone leaves the transceiver wanting, and the page
      // must not offer it again and again.
      if (call !== c || !pc.remoteDescription || !c.wantOffer) return;
      try {
        c.makingOffer = true;
        await pc.setLocalDescription();
        const m = { type: 'offer', sdp: pc.localDescription.sdp };
        if (c.robot) m.to = c.robot;
        send(m);
        note('offered ' + (state.mic === 'on' ? 'the microphone' : 'a change') + ' to the robot');
      } catch (err) {
        note('cannot offer: ' + err);
      } finally {
        c.makingOffer = false;
      }
    };
    return c;
  }

  function relayFailed(why) {
    state.failedRelay = true;
    state.connection = 'failed';
    if (!why) {
      why = 'No relay candidate: the TURN server gave none (check the TURN URL and its credentials).';
    }
    if (!state.message || state.messageKind !== 'error') showMessage(why);
    render();
  }

  function closeCall(why) {
    const c = call;
    if (!c) return;
    call = null;
    clearTimeout(c.failedTimer);
    note('call closed: ' + why);
    try {
      c.pc.close();
    } catch (e) { /* already closed */ }
    detachTeleop();
    detachEstop();
    state.connection = 'none';
  }

  // repairSDP drops a second mapping of an RTP header-extension id to a
  // different extension: the original deployment's Python aiortc robot
  // gives one id to two extensions in its audio+video offers, which the
  // browser refuses whole. The extension is optional; the media is not.
  function repairSDP(sdp) {
    const seen = new Map();
    let changed = false;
    const lines = sdp.split('\n').filter((ln) => {
      const m = /^a=extmap:(\d+)(?:\/\w+)? (\S+)/.exec(ln.trim());
      if (!m) return true;
      const prev = seen.get(m[1]);
      if (prev !== undefined && prev !== m[2]) {
        changed = true;
        return false;
      }
      seen.set(m[1], m[2]);
      return true;
    });
    if (changed) note('dropped a clashing RTP header extension from the offer');
    return changed ? lines.join('\n') : sdp;
  }

  async function onOffer(msg) {
    const from = msg.sender || '';
    if (!call || call.robot !== from || call.pc.connectionState === 'closed') {
      await newCall(from);
    }
    const c = call;
    const pc = c.pc;
    // The robot's offer wins over ours: the browser rolls ours back.
    c.offerSDP = repairSDP(msg.sdp);
    await pc.setRemoteDescription({ type: 'offer', sdp: c.offerSDP });
    state.offers++;
    state.failedRelay = false;
    const pending = (early.get(from) || []).concat(c.pending);
    early.delete(from);
    c.pending = [];
    for (const cand of pending) await addCandidate(pc, cand);
    if (micTrack && !c.micSender) attachMic(c);
    await pc.setLocalDescription();
    checkCameras(c);
    const m = { type: 'answer', sdp: pc.localDescription.sdp };
    if (from) m.to = from;
    send(m);
    note('answered ' + (from || 'the room'));
  }

  async function onAnswer(msg) {
    const c = call;
    if (!c || (msg.sender || '') !== c.robot || c.pc.signalingState !== 'have-local-offer') return;
    await c.pc.setRemoteDescription({ type: 'answer', sdp: repairSDP(msg.sdp) });
    c.wantOffer = false;
    checkCameras(c);
    note('the robot answered our offer');
  }

  async function onCandidate(msg) {
    const cand = msg.candidate;
    if (!cand || !cand.candidate) return;
    const from = msg.sender || '';
    const c = call;
    if (c && c.robot === from) {
      if (!c.pc.remoteDescription) c.pending.push(cand);
      else await addCandidate(c.pc, cand);
      return;
    }
    const list = early.get(from) || [];
    if (list.length < 64) list.push(cand);
    early.set(from, list);
    if (early.size > 8) early.delete(early.keys().next().value);
  }

  async function addCandidate(pc, cand) {
    try {
      await pc.addIceCandidate(cand);
    } catch (e) {
      note('candidate refused: ' + e.message);
    }
  }

  // ---- Talk back: the microphone goes to the robot's speaker.

  let micStream = null;
  let micTrack = null;

  function attachMic(c) {
    const tr = c.pc.getTransceivers().find((t) => t.receiver.track && t.receiver.track.kind === 'audio' &&
      !t.sender.track && !t.stopped);
    if (tr) {
      // The robot's audio m-line: send on it too.
      tr.sender.replaceTrack(micTrack);
      tr.direction = 'sendrecv';
      c.micSender = tr.sender;
    } else {
      c.micSender = c.pc.addTrack(micTrack, micStream);
    }
    c.wantOffer = true;
    state.micSent = true;
  }

  async function startTalking() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      state.mic = 'failed';
      showMessage('The microphone needs this page over HTTPS (or on localhost). Run the signaling server with -tls-self-signed HOST, or -tls-cert and -tls-key, and open https://' + location.host + '/.');
      render();
      return;
    }
    state.mic = 'asking';
    render();
    const audio = rawMic
      ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false }
      : { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    try {
      micStream = await navigator.mediaDevices.getUserMedia({ audio: audio });
    } catch (e) {
      state.mic = 'failed';
      showMessage('No microphone: ' + e.message);
      render();
      return;
    }
    micTrack = micStream.getAudioTracks()[0];
    state.mic = 'on';
    note('microphone on: ' + micTrack.label);
    if (call && call.pc.remoteDescription) {
      if (call.micSender) call.micSender.replaceTrack(micTrack);
      else attachMic(call); // negotiationneeded offers it
    }
    render();
  }

  function stopTalking() {
    if (call && call.micSender) call.micSender.replaceTrack(null);
    if (micStream) micStream.getTracks().forEach((t) => t.stop());
    micStream = null;
    micTrack = null;
    state.mic = 'off';
    note('microphone off');
    render();
  }

  $('talk').addEventListener('click', () => {
    if (state.mic === 'on') stopTalking();
    else if (state.mic !== 'asking') startTalking();
  });

  $('sound').addEventListener('click', () => {
    video.muted = !video.muted;
    if (!video.muted) video.play().catch(() => {});
    render();
  });

  // ---- Teleop: commands on the robot's unreliable "teleop" channel,
  // repeated while held, a stop when released; the robot echoes each one
  // it executes, says why it refused one, and syncs its clock with ours.

  const teleop = {
    dc: null, seq: 0, held: new Set(), timer: null, lastSend: 0, stops: 0,
    lastAckT: null, rttSum: 0, rttN: 0, alertUntil: 0, lastRefusedNote: 0,
  };
  const keys = {
    ArrowUp: 'fwd', KeyW: 'fwd', ArrowDown: 'back', KeyS: 'back',
    ArrowLeft: 'left', KeyA: 'left', ArrowRight: 'right', KeyD: 'right',
  };
  const REPEAT_MS = 100; // while held: 10 commands a second
  const MIN_GAP_MS = 50; // never more than 20 a second
  const refusedWords = {
    stale: 'it was too old when it arrived (slow link or clocks not synced)',
    order: 'it arrived after a newer one',
    estop: 'the E-stop is latched',
    unsynced: 'the robot has not synced its clock with this page yet',
    observer: 'another viewer holds control',
    channel: 'the E-stop channel has closed',
  };
  const controlWords = { busy: 'the driver is moving the robot; you drive when they let go or leave' };
  const stoppedWords = {
    deadman: 'no valid command came in time',
    link: 'the connection was lost',
    channel: 'the teleop channel closed',
    estop: 'E-stop',
    control: 'another viewer took control',
  };

  // parseMessage reads a channel message, text or bytes (rtclink sends
  // bytes); null when it is not a JSON object.
  function parseMessage(data) {
    try {
      const m = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
      return m && typeof m === 'object' ? m : null;
    } catch (err) {
      return null;
    }
  }

  function attachTeleop(dc) {
    detachTeleop();
    teleop.dc = dc;
    dc.onopen = () => {
      state.teleop.open = true;
      note('teleop channel open');
      render();
    };
    dc.onclose = () => {
      if (teleop.dc === dc) {
        state.teleop.open = false;
        render();
      }
    };
    dc.binaryType = 'arraybuffer';
    dc.onmessage = (e) => {
      const at = pageNow();
      const m = parseMessage(e.data);
      if (!m) return;
      switch (m.type) {
        case 'sync':
          // Answer at once: the time spent here counts in the robot's
          // estimate of the round trip.
          if (dc.readyState !== 'open') return;
          try {
            dc.send(JSON.stringify({ type: 'sync-reply', id: m.id, t0: m.t0, t1: at, t2: pageNow() }));
            state.teleop.syncs++;
          } catch (err) { /* the channel is closing */ }
          return;
        case 'echo':
          if (typeof m.t !== 'number') return;
          state.teleop.echoes++;
          state.teleop.rttMs = at - m.t;
          teleop.rttSum += at - m.t;
          teleop.rttN++;
          if (teleop.lastAckT === null || m.t > teleop.lastAckT) teleop.lastAckT = m.t;
          state.teleop.ackAgeMs = at - teleop.lastAckT;
          break;
        case 'refused': {
          const why = String(m.why);
          state.teleop.refused++;
          state.teleop.lastRefused = { seq: m.seq, why: why };
          showAlert('The robot refused command #' + m.seq + ' (' + why + '): ' + (refusedWords[why] || 'no reason given') + '.');
          if (performance.now() - teleop.lastRefusedNote > 2000) {
            teleop.lastRefusedNote = performance.now();
            note('robot refused #' + m.seq + ': ' + why);
          }
          break;
        }
        case 'stopped': {
          const why = String(m.why);
          state.teleop.stopped++;
          state.teleop.lastStopped = { why: why };
          showAlert('The robot stopped by itself (' + why + '): ' + (stoppedWords[why] || 'no reason given') + '.', 'warn');
          note('robot stopped by itself: ' + why);
          break;
        }
        case 'control': {
          if (typeof m.you !== 'boolean') return;
          const was = state.control;
          state.control = { you: m.you, driver: String(m.driver || ''), waiting: !!m.waiting };
          if (!was || was.you !== m.you || was.driver !== state.control.driver) {
            note(m.you ? 'this page drives' : m.driver ? 'another viewer drives' : 'nobody drives');
          }
          if (m.why) showAlert('The robot did not give this page control: ' + (controlWords[m.why] || m.why) + '.', 'warn');
          safety();
          return;
        }
        case 'clock':
          if (![m.offset, m.rtt, m.err].every(Number.isFinite)) return;
          if (!state.clock) note('clock synced with the robot: ' + m.offset.toFixed(1) + ' ± ' + m.err.toFixed(1) + ' ms');
          state.clock = { offset: m.offset, rtt: m.rtt, err: m.err };
          break;
        default:
          return;
      }
      renderTeleop();
    };
    if (dc.readyState === 'open') {
      state.teleop.open = true;
      render();
    }
  }

  function detachTeleop() {
    if (teleop.dc) {
      teleop.dc.onmessage = teleop.dc.onopen = teleop.dc.onclose = null;
    }
    teleop.dc = null;
    teleop.lastAckT = null;
    state.teleop.open = false;
    state.teleop.ackAgeMs = null;
    state.clock = null;
    state.control = null;
  }

  function showAlert(text, kind) {
    state.teleop.alert = text;
    $('teleop-alert').dataset.kind = kind || 'info';
    teleop.alertUntil = performance.now() + 6000;
  }

  // observing: another viewer drives, so this page sends no command,
  // not even a stop, which would stop the driver's robot.
  function observing() {
    return !!state.control && !state.control.you;
  }

  // sendControl asks for control or lets go of it.
  function sendControl(type) {
    const dc = teleop.dc;
    if (!dc || dc.readyState !== 'open') return;
    try {
      dc.send(JSON.stringify({ type: type }));
      note(type === 'control-request' ? 'asked to drive' : 'let go of control');
    } catch (e) {
      note('teleop send failed: ' + e.message);
    }
  }

  function sendCommand(cmd) {
    if (observing()) return;
    if (cmd.type === 'drive' && state.drive) return; // never, whatever called
    teleop.lastSend = performance.now();
    cmd.seq = ++teleop.seq;
    cmd.t = pageNow();
    state.teleop.last = cmd;
    const dc = teleop.dc;
    if (dc && dc.readyState === 'open') {
      try {
        dc.send(JSON.stringify(cmd));
        state.teleop.sent++;
      } catch (e) {
        note('teleop send failed: ' + e.message);
      }
    }
    renderTeleop();
  }

  function driveCommand() {
    const speed = +$('speed').value;
    const h = teleop.held;
    const linear = ((h.has('fwd') ? 1 : 0) - (h.has('back') ? 1 : 0)) * speed;
    const angular = ((h.has('left') ? 1 : 0) - (h.has('right') ? 1 : 0)) * speed;
    return { type: 'drive', linear: Math.round(linear * 100) / 100, angular: Math.round(angular * 100) / 100 };
  }

  function tick() {
    if (teleop.held.size > 0) {
      sendCommand(driveCommand());
    } else if (teleop.stops > 0) {
      // A stop may be lost on the unreliable channel: send it three times.
      teleop.stops--;
      sendCommand({ type: 'stop' });
    }
    if (teleop.held.size === 0 && teleop.stops === 0) {
      clearInterval(teleop.timer);
      teleop.timer = null;
    }
  }

  function steer() {
    document.querySelectorAll('#pad button[data-dir]').forEach((b) => {
      b.classList.toggle('held', teleop.held.has(b.dataset.dir));
    });
    if (teleop.held.size === 0) teleop.stops = 3;
    else teleop.stops = 0;
    if (performance.now() - teleop.lastSend >= MIN_GAP_MS) tick();
    if (!teleop.timer && (teleop.held.size > 0 || teleop.stops > 0)) {
      teleop.timer = setInterval(tick, REPEAT_MS);
    }
  }

  function release() {
    if (teleop.held.size > 0) {
      teleop.held.clear();
      steer();
    }
  }

  function stopNow() {
    teleop.held.clear();
    steer();
  }

  // hold starts driving in dir, unless driving is off.
  function hold(dir) {
    if (state.drive) return;
    teleop.held.add(dir);
    steer();
  }

  window.addEventListener('keydown', (e) => {
    if (e.code === 'Escape') {
      e.preventDefault();
      if (!e.repeat) pressEstop();
      return;
    }
    if (e.target instanceof HTMLInputElement && e.target.type !== 'range') return;
    if (e.code === 'Space') {
      e.preventDefault();
      stopNow();
      return;
    }
    const dir = keys[e.code];
    if (!dir) return;
    e.preventDefault();
    // A key still down from before driving went off stays ignored: its
    // repeats never start driving again, only a new press does.
    if (e.repeat || teleop.held.has(dir)) return;
    hold(dir);
  });
  window.addEventListener('keyup', (e) => {
    const dir = keys[e.code];
    if (!dir || !teleop.held.has(dir)) return;
    teleop.held.delete(dir);
    steer();
  });
  // Losing focus loses the key-up: stop.
  window.addEventListener('blur', release);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) release();
  });

  document.querySelectorAll('#pad button[data-dir]').forEach((b) => {
    const dir = b.dataset.dir;
    b.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      if (dir === 'stop') {
        stopNow();
        return;
      }
      if (state.drive) return;
      b.setPointerCapture(e.pointerId);
      hold(dir);
    });
    const up = () => {
      if (teleop.held.delete(dir)) steer();
    };
    b.addEventListener('pointerup', up);
    b.addEventListener('pointercancel', up);
    b.addEventListener('lostpointercapture', up);
  });
  $('speed').addEventListener('input', () => {
    $('speed-value').textContent = (+$('speed').value).toFixed(1);
  });

  // ---- E-stop: the robot's reliable, ordered "estop" channel. The robot
  // latches at once and answers with its state; only a release it accepts
  // unlatches it. A robot without the channel has no E-stop here.

  const estop = { dc: null, pendingSeq: 0 };

  function attachEstop(dc) {
    detachEstop();
    estop.dc = dc;
    const opened = () => {
      if (estop.dc !== dc || state.estop.available) return;
      state.estop.available = true;
      note('E-stop channel open');
      render();
    };
    dc.onopen = opened;
    dc.onclose = () => {
      if (estop.dc === dc) {
        state.estop.available = false;
        state.estop.pending = '';
        render();
      }
    };
    dc.binaryType = 'arraybuffer';
    dc.onmessage = (e) => {
      const m = parseMessage(e.data);
      if (!m || m.type !== 'estop-state' || typeof m.latched !== 'boolean') return;
      const s = state.estop;
      s.acks++;
      if (m.latched !== s.latched) note(m.latched ? 'E-stop latched' : 'E-stop released');
      if (s.pending && m.seq >= estop.pendingSeq) {
        if (s.pending === 'release' && m.latched) {
          showAlert('The robot kept the E-stop latched: a release counts only once its clock is synced with this page and the release is fresh. Try again.', 'warn');
        }
        s.pending = '';
      }
      s.latched = m.latched;
      safety();
    };
    if (dc.readyState === 'open') opened();
  }

  function detachEstop() {
    if (estop.dc) {
      estop.dc.onmessage = estop.dc.onopen = estop.dc.onclose = null;
    }
    estop.dc = null;
    state.estop.available = false;
    state.estop.latched = false;
    state.estop.pending = '';
  }

  // sendEstop sends an estop or a release; false when there is no channel.
  function sendEstop(type) {
    const dc = estop.dc;
    if (!dc || dc.readyState !== 'open') return false;
    const seq = ++teleop.seq; // one counter for all the page's commands
    try {
      dc.send(JSON.stringify({ type: type, seq: seq, t: pageNow() }));
    } catch (e) {
      note('E-stop channel send failed: ' + e.message);
      return false;
    }
    state.estop.sent++;
    state.estop.pending = type;
    estop.pendingSeq = seq;
    note(type === 'estop' ? 'E-stop sent' : 'release sent');
    return true;
  }

  function pressEstop() {
    if (sendEstop('estop')) {
      release();
    } else {
      note('no E-stop on this robot: stopping instead');
      stopNow();
    }
    safety();
  }

  $('estop').addEventListener('click', pressEstop);
  $('control-ask').addEventListener('click', () => sendControl('control-request'));
  $('control-release').addEventListener('click', () => {
    release();
    sendControl('control-release');
  });
  $('estop-release').addEventListener('click', () => {
    if (state.estop.latched && !state.estop.pending) sendEstop('release');
    render();
  });

  // ---- Stale-video lockout: no driving blind. Driving turns itself off
  // when no new picture came for staleMs, or when the pictures are more
  // than maxLatencyMs old on screen, and on again when they are fresh.

  let lastFrameAt = 0; // performance.now() of the last new picture
  let framesSeen = 0; // where requestVideoFrameCallback is missing
  const recentLatencies = []; // the last few stamps' latencies

  let lastCheck = 0;
  let skipped = false;

  function checkVideo() {
    const now = performance.now();
    // This page itself was held up: the pictures that came meanwhile may
    // not be counted yet. Judge at the next check, but never skip two.
    const busy = lastCheck && now - lastCheck > 250 && !skipped;
    lastCheck = now;
    skipped = busy;
    if (busy) return;
    if (!video.requestVideoFrameCallback && video.getVideoPlaybackQuality) {
      const n = video.getVideoPlaybackQuality().totalVideoFrames;
      if (n !== framesSeen) {
        framesSeen = n;
        lastFrameAt = now;
      }
    }
    const lo = state.lockout;
    const sorted = recentLatencies.slice().sort((a, b) => a - b);
    const latency = sorted.length ? sorted[sorted.length >> 1] : null;
    let reason = '';
    let text = '';
    if (staleMs > 0 && (!lastFrameAt || now - lastFrameAt > staleMs)) {
      reason = 'stale';
      text = lastFrameAt ? 'the video has not moved for ' + ((now - lastFrameAt) / 1000).toFixed(1) + ' s' : 'no video yet';
    } else if (maxLatencyMs > 0 && latency !== null && latency > maxLatencyMs) {
      reason = 'latency';
      text = 'the video is ' + Math.round(latency) + ' ms late (the limit is ' + maxLatencyMs + ' ms)' +
        (state.clock ? '' : ' by this computer\'s clock, which may not agree with the robot\'s');
    }
    lo.lastFrame = lastFrameAt ? performance.timeOrigin + lastFrameAt : null;
    lo.text = text;
    if (!!reason === lo.locked && reason === lo.reason) return;
    const was = lo.locked;
    lo.locked = !!reason;
    lo.reason = reason;
    if (lo.locked && !was) {
      lo.since = pageNow();
      if (state.teleop.open) {
        lo.count++;
        note('driving off: ' + text);
      }
    } else if (!lo.locked && state.teleop.open) {
      note('driving on again: the video is fresh');
    }
  }

  // safety works out whether driving is allowed, stops driving when it is
  // not, and shows it.
  function safety() {
    checkVideo();
    const s = state.estop;
    state.drive = s.latched || s.pending === 'estop' ? 'estop' : observing() ? 'observer' : state.lockout.reason;
    if (state.drive && teleop.held.size > 0) {
      note('stopping: driving is off (' + state.drive + ')');
      release();
    }
    if (teleop.lastAckT !== null) state.teleop.ackAgeMs = pageNow() - teleop.lastAckT;
    if (state.teleop.alert && performance.now() > teleop.alertUntil) state.teleop.alert = '';
    renderTeleop();
  }

  // ---- Cameras: a robot may send several video tracks (rtclink's
  // MoreVideo and AddVideo), each named by its track id in the offer's
  // a=msid line. With two or more, each gets a tile under the picture
  // with its name, and one of them, the first unless the person taps
  // another tile, plays large in #video with the robot's audio. The large
  // one is the camera the driver looks at, so it is the one whose stamps,
  // latency and frame figures the page shows and whose stale or late
  // pictures turn driving off. With one camera there are no tiles.

  let cams = []; // {pub (its entry in state.cameras), track, transceiver, tile, tileVideo}
  let large = null; // the camera shown large

  // msidName returns the track id the SDP gives the m-section of mid
  // (a=msid:STREAM TRACK, or an a=ssrc line's msid), or ''. The remote
  // track's own id is the browser's to choose and may differ from it.
  function msidName(sdp, mid) {
    if (!sdp || mid === null || mid === undefined) return '';
    for (const sec of sdp.split(/\r?\n(?=m=)/).slice(1)) {
      const lines = sec.split(/\r?\n/);
      if (!lines.includes('a=mid:' + mid)) continue;
      for (const ln of lines) {
        const m = /^a=msid:\S+ (\S+)/.exec(ln) || /^a=ssrc:\d+ msid:\S+ (\S+)/.exec(ln);
        if (m) return m[1];
      }
      return '';
    }
    return '';
  }

  function cameraName(c, e) {
    const sdp = c.pc.remoteDescription ? c.pc.remoteDescription.sdp : c.offerSDP;
    let name = msidName(sdp, e.transceiver && e.transceiver.mid) || e.track.id || 'video';
    const taken = (n) => cams.some((cam) => cam.track !== e.track && cam.pub.name === n);
    for (let i = 2; taken(name); i++) name = name.replace(/ \d+$/, '') + ' ' + i;
    return name;
  }

  // addCamera takes a video track of the call: a new tile, or a new name
  // for a track the robot has started sending again.
  function addCamera(c, e) {
    const name = cameraName(c, e);
    let cam = cams.find((x) => x.track === e.track);
    if (cam) {
      if (cam.pub.name !== name) {
        cam.pub.name = name;
        if (cam.tile) {
          cam.tile.dataset.name = name;
          cam.tile.lastChild.textContent = name;
        }
        if (cam === large) state.camera = name;
      }
      return cam;
    }
    cam = {
      pub: { name: name, large: false, frames: 0, framesDecoded: 0, width: 0, height: 0, fps: 0 },
      track: e.track, transceiver: e.transceiver, tile: null, tileVideo: null,
    };
    cams.push(cam);
    state.cameras = cams.map((x) => x.pub);
    e.track.addEventListener('ended', () => {
      if (call === c) dropCamera(c, e.track, 'ended');
    });
    if (!large) showLarge(c, cam);
    renderCameras();
    return cam;
  }

  // dropCamera forgets a video track the robot no longer sends.
  function dropCamera(c, track, why) {
    const cam = cams.find((x) => x.track === track);
    if (!cam) return;
    cams = cams.filter((x) => x !== cam);
    state.cameras = cams.map((x) => x.pub);
    dropTile(cam);
    note('camera ' + cam.pub.name + ' gone (' + why + ')');
    if (cam === large) showLarge(c, cams[0] || null);
    renderCameras();
    render();
  }

  // checkCameras drops the tracks a new description stopped: their
  // transceiver no longer receives.
  function checkCameras(c) {
    for (const cam of cams.slice()) {
      const d = cam.transceiver ? cam.transceiver.currentDirection : null;
      if (d === 'inactive' || d === 'sendonly' || d === 'stopped' || cam.track.readyState === 'ended') {
        dropCamera(c, cam.track, 'no longer sent');
      }
    }
  }

  function clearCameras() {
    for (const cam of cams) dropTile(cam);
    cams = [];
    large = null;
    state.cameras = [];
    state.camera = '';
    renderCameras();
  }

  // showLarge plays cam in #video, with the audio.
  function showLarge(c, cam) {
    if (large === cam) return;
    const old = large;
    large = cam;
    state.camera = cam ? cam.pub.name : '';
    if (old) old.pub.large = false;
    if (cam) cam.pub.large = true;
    const tracks = c.stream.getTracks().filter((t) => t.kind !== 'video');
    if (cam) tracks.push(cam.track);
    playTracks(c, tracks);
    if (!old) return;
    // The figures of the old camera say nothing of the new one. The
    // stale clock runs on: a camera that shows no picture soon after it
    // is chosen turns driving off.
    latencies.length = 0;
    recentLatencies.length = 0;
    misses = 0;
    state.latencyMs = null;
    if (cam) {
      state.framesDecoded = cam.pub.framesDecoded;
      state.frameWidth = cam.pub.width;
      state.frameHeight = cam.pub.height;
      state.fps = cam.pub.fps;
    }
    rearmFrames();
  }

  // playTracks makes #video play tracks: a new stream, which the element
  // takes at once, where a track added to the stream it plays may not
  // show.
  function playTracks(c, tracks) {
    const playing = video.srcObject === c.stream;
    c.stream = new MediaStream(tracks);
    if (call === c && playing) {
      video.srcObject = c.stream;
      video.play().catch(() => {});
    }
  }

  function makeTile(cam) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'tile';
    b.dataset.name = cam.pub.name;
    b.title = 'Show this camera large';
    const v = document.createElement('video');
    v.muted = true;
    v.autoplay = true;
    v.playsInline = true;
    v.srcObject = new MediaStream([cam.track]);
    const label = document.createElement('span');
    label.className = 'tile-name';
    label.textContent = cam.pub.name;
    b.append(v, label);
    b.addEventListener('click', () => {
      if (!call || !cams.includes(cam) || cam === large) return;
      showLarge(call, cam);
      note('showing ' + cam.pub.name + ' large');
      renderCameras();
      render();
    });
    $('tiles').appendChild(b);
    v.play().catch(() => {});
    cam.tile = b;
    cam.tileVideo = v;
    if (v.requestVideoFrameCallback) {
      const onFrame = () => {
        if (cam.tileVideo !== v) return;
        cam.pub.frames++;
        v.requestVideoFrameCallback(onFrame);
      };
      v.requestVideoFrameCallback(onFrame);
    }
  }

  function dropTile(cam) {
    if (!cam.tile) return;
    cam.tileVideo.srcObject = null;
    cam.tile.remove();
    cam.tile = cam.tileVideo = null;
  }

  // renderCameras shows a tile per camera when there are two or more,
  // and the large one's name on the picture.
  function renderCameras() {
    const many = cams.length > 1;
    $('tiles').hidden = !many;
    for (const cam of cams) {
      if (many && !cam.tile) makeTile(cam);
      else if (!many) dropTile(cam);
      if (cam.tile) cam.tile.setAttribute('aria-pressed', String(cam === large));
    }
    $('cam-name').hidden = !many || !large;
    setText('cam-name', many && large ? large.pub.name : '');
  }

  // ---- What the page shows: stats once a second, stamps on every frame.

  let statsPrev = null;

  async function pollStats() {
    const c = call;
    if (!c || c.pc.connectionState === 'closed') return;
    let report;
    try {
      report = await c.pc.getStats();
    } catch (e) {
      return;
    }
    if (call !== c) return;
    let bytes = 0;
    let selected = null;
    report.forEach((r) => {
      if (r.type === 'inbound-rtp') {
        bytes += r.bytesReceived || 0;
        const codec = report.get(r.codecId);
        const name = codec ? codec.mimeType.replace(/^(video|audio)\//, '') : '';
        if (r.kind === 'video') {
          const cam = cams.find((x) => x.track.id === r.trackIdentifier) ||
            cams.find((x) => x.transceiver && x.transceiver.mid === r.mid);
          if (cam) {
            cam.pub.framesDecoded = r.framesDecoded || 0;
            cam.pub.width = r.frameWidth || 0;
            cam.pub.height = r.frameHeight || 0;
            cam.pub.fps = r.framesPerSecond || 0;
          }
          if (cam ? cam === large : !large) { // the figures are the large camera's
            state.videoCodec = name;
            state.framesDecoded = r.framesDecoded || 0;
            state.frameWidth = r.frameWidth || 0;
            state.frameHeight = r.frameHeight || 0;
            state.fps = r.framesPerSecond || 0;
          }
        } else if (r.kind === 'audio') {
          state.audioCodec = name;
          state.audioPackets = r.packetsReceived || 0;
        }
      }
      if (r.type === 'transport' && r.selectedCandidatePairId) selected = report.get(r.selectedCandidatePairId);
    });
    if (!selected) {
      report.forEach((r) => {
        if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') selected = r;
      });
    }
    if (selected) {
      const l = report.get(selected.localCandidateId) || {};
      const rc = report.get(selected.remoteCandidateId) || {};
      state.pair = {
        local: l.candidateType || '?', remote: rc.candidateType || '?',
        protocol: l.protocol || '', relayProtocol: l.relayProtocol || '',
        relayed: l.candidateType === 'relay' || rc.candidateType === 'relay',
      };
      state.rttMs = selected.currentRoundTripTime !== undefined ? selected.currentRoundTripTime * 1000 : null;
    }
    const now = performance.now();
    if (statsPrev && now > statsPrev.at) state.bitrate = Math.max(0, (bytes - statsPrev.bytes) * 8000 / (now - statsPrev.at));
    statsPrev = { at: now, bytes: bytes };
    render();
  }

  // Stamps: the test pattern carries its capture time in a band of cells
  // at its top (capture/stamp). Only that band is read.
  const band = $('band');
  const bandCtx = band.getContext('2d', { willReadFrequently: true });
  const latencies = [];
  let watching = false;
  let frameHandle = 0;
  let misses = 0;
  let frameNo = 0;

  function watchFrames() {
    if (watching || !video.requestVideoFrameCallback) return;
    watching = true;
    frameHandle = video.requestVideoFrameCallback(onFrame);
  }

  // rearmFrames asks again for the pictures of #video after it changed
  // camera.
  function rearmFrames() {
    if (!watching) return;
    video.cancelVideoFrameCallback(frameHandle);
    frameHandle = video.requestVideoFrameCallback(onFrame);
  }

  function onFrame(now, meta) {
    frameHandle = video.requestVideoFrameCallback(onFrame);
    frameNo++;
    lastFrameAt = performance.now();
    if (large && !large.tileVideo) large.pub.frames++;
    // A picture with no stamp (a camera): look again once a second.
    if (misses > 30 && frameNo % 30 !== 0) return;
    const w = meta.width || video.videoWidth;
    const h = meta.height || video.videoHeight;
    if (!w || !h || !window.avlinkStamp) return;
    const bh = Math.min(h, 2 * Math.floor(h / 15));
    if (band.width !== w) band.width = w;
    if (band.height !== bh) band.height = bh;
    bandCtx.drawImage(video, 0, 0, w, bh, 0, 0, w, bh);
    const st = avlinkStamp.readStamp(bandCtx.getImageData(0, 0, w, bh), h);
    if (!st) {
      misses++;
      if (misses > 3) recentLatencies.length = 0;
      if (misses > 90) state.latencyMs = null;
      return;
    }
    misses = 0;
    state.stampsRead++;
    // The time at which this picture is shown: on the robot's clock
    // when the robot has told us the offset of ours, else on this
    // computer's wall clock.
    const at = meta.expectedDisplayTime || now;
    const shown = state.clock ? performance.timeOrigin + at - state.clock.offset
      : Date.now() + (at - performance.now());
    latencies.push(shown - st.timeMs);
    if (latencies.length > 30) latencies.shift();
    recentLatencies.push(shown - st.timeMs);
    if (recentLatencies.length > 5) recentLatencies.shift();
    const sorted = latencies.slice().sort((a, b) => a - b);
    state.latencyMs = sorted[sorted.length >> 1];
  }

  // ---- Graphs of the last 60 s, one value a second, drawn on small
  // canvases.

  const GRAPH_POINTS = 60;
  const graphs = [
    { key: 'latency', label: 'latency', color: '#3b9eff', fmt: (v) => Math.round(v) + ' ms' },
    { key: 'rtt', label: 'command round trip', color: '#2fbf71', fmt: (v) => fmtMs(v) },
    { key: 'bitrate', label: 'bitrate', color: '#e5a50a', fmt: (v) => fmtRate(v) },
    { key: 'fps', label: 'frame rate', color: '#c58af9', fmt: (v) => Math.round(v) + ' fps' },
  ];

  function sampleGraphs() {
    const live = isConnected();
    const rtt = teleop.rttN ? teleop.rttSum / teleop.rttN : null;
    teleop.rttSum = teleop.rttN = 0;
    const values = {
      latency: live ? state.latencyMs : null,
      rtt: live ? rtt : null,
      bitrate: live ? state.bitrate : null,
      fps: live ? state.fps : null,
    };
    for (const g of graphs) {
      const series = state.graphs[g.key];
      series.push(values[g.key]);
      if (series.length > GRAPH_POINTS) series.shift();
    }
    drawGraphs();
  }

  function drawGraphs() {
    const dpr = window.devicePixelRatio || 1;
    for (const g of graphs) {
      const cv = $('g-' + g.key);
      const w = cv.clientWidth;
      const h = cv.clientHeight;
      if (!w || !h) continue;
      if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
        cv.width = Math.round(w * dpr);
        cv.height = Math.round(h * dpr);
      }
      const ctx = cv.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      const series = state.graphs[g.key];
      const known = series.filter((v) => v !== null);
      const top = Math.max(...known, 1e-9) * 1.15;
      const x = (i) => w - 1 - (series.length - 1 - i) * (w - 2) / (GRAPH_POINTS - 1);
      const y = (v) => h - 2 - (v / top) * (h - 16);
      ctx.strokeStyle = g.color;
      ctx.fillStyle = g.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      series.forEach((v, i) => {
        if (v === null) {
          pen = false;
          return;
        }
        if (pen) ctx.lineTo(x(i), y(v));
        else ctx.moveTo(x(i), y(v));
        pen = true;
      });
      ctx.stroke();
      // A value with no neighbour draws no line: a dot instead.
      const gap = (i) => series[i] === null || series[i] === undefined;
      series.forEach((v, i) => {
        if (v !== null && gap(i - 1) && gap(i + 1)) {
          ctx.fillRect(x(i) - 1.5, y(v) - 1.5, 3, 3);
        }
      });
      const last = series.length ? series[series.length - 1] : null;
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillStyle = '#8b98a5';
      ctx.textBaseline = 'top';
      ctx.fillText(g.label + ' ' + (last !== null ? g.fmt(last) : '–'), 4, 2);
      if (known.length) {
        ctx.textAlign = 'right';
        ctx.fillText('max ' + g.fmt(Math.max(...known)), w - 4, 2);
        ctx.textAlign = 'left';
      }
    }
    state.graphDraws++;
  }

  // ---- Rendering.

  function fmtRate(bps) {
    if (!bps) return '–';
    return bps >= 1e6 ? (bps / 1e6).toFixed(2) + ' Mbit/s' : Math.round(bps / 1e3) + ' kbit/s';
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '–';
    return (ms < 10 ? ms.toFixed(1) : Math.round(ms)) + ' ms';
  }

  function setText(id, text) {
    const el = $(id);
    if (el.textContent !== text) el.textContent = text;
  }

  function headline() {
    if (state.failedRelay) return ['relay refused', 'bad', 'The relay is not available: see the message below.'];
    if (isConnected()) return ['live', 'ok', ''];
    const conn = call ? call.pc.connectionState : 'none';
    if (state.signaling !== 'open' && !isConnected()) {
      return ['signaling lost', 'bad', 'Signaling server unreachable, retrying…'];
    }
    if (conn === 'connecting' || conn === 'new') return ['connecting', 'wait', 'Connecting to the robot…'];
    if (conn === 'disconnected') return ['reconnecting', 'wait', 'Connection interrupted, reconnecting…'];
    if (conn === 'failed') return ['reconnecting', 'wait', 'Connection lost, waiting for the robot…'];
    if (state.robotInRoom && state.joinedAt && Date.now() - state.joinedAt > 3000) {
      return ['waiting', 'wait', 'Someone is in room "' + room + '" but no robot has called this page yet: ' +
        'the robot may be talking to another viewer.'];
    }
    return ['waiting', 'wait', 'Waiting for the robot to join room "' + room + '"…'];
  }

  const driveWords = { estop: 'E-stop', observer: 'another viewer drives', stale: 'video frozen', latency: 'video late' };

  function renderTeleop() {
    const t = state.teleop;
    setText('teleop-status', !t.open ? 'teleop: no channel yet'
      : state.drive ? 'teleop: driving off (' + driveWords[state.drive] + ')' : 'teleop: ready');
    const last = t.last;
    let cmd = '–';
    if (last) {
      cmd = last.type === 'stop' ? 'stop' : 'drive ' + last.linear.toFixed(1) + ' / ' + last.angular.toFixed(1);
      cmd += ' #' + last.seq;
    }
    setText('s-command', cmd);
    setText('s-teleop-rtt', t.rttMs === null ? '–' : fmtMs(t.rttMs) + ' (' + t.echoes + ' echoed)');
    setText('s-ack-age', t.ackAgeMs === null ? '–' : fmtMs(t.ackAgeMs) + ' ago');
    const c = state.clock;
    setText('s-clock', c ? (c.offset >= 0 ? '+' : '') + c.offset.toFixed(1) + ' ± ' + fmtMs(c.err) + ' (rtt ' + fmtMs(c.rtt) + ')'
      : t.open ? 'not synced' : '–');
    setText('s-refused', t.refused ? t.refused + ' (last: ' + t.lastRefused.why + ')' : t.open ? '0' : '–');
    setText('s-stopped', t.stopped ? t.stopped + ' (last: ' + t.lastStopped.why + ')' : t.open ? '0' : '–');

    const e = state.estop;
    setText('s-estop', !e.available ? (e.latched ? 'latched (no channel)' : 'unavailable')
      : e.pending === 'estop' ? 'sent…' : e.latched ? 'LATCHED' : 'released');
    const btn = $('estop');
    btn.disabled = !e.available;
    setText('estop', e.available ? 'E-STOP' : 'E-stop unavailable');
    btn.title = e.available ? 'Stop the robot and keep it stopped until released (Escape)'
      : 'This robot has no E-stop channel: Escape and the ■ button only stop driving';
    $('estop-banner').hidden = !(e.latched || e.pending === 'estop');
    setText('estop-text', e.latched ? 'E-STOP latched' : 'E-STOP sent, waiting for the robot…');
    const rel = $('estop-release');
    rel.disabled = !e.available || !e.latched || !!e.pending;
    setText('estop-release', e.pending === 'release' ? 'Releasing…' : 'Release');

    const lo = state.lockout;
    const locked = t.open && lo.locked;
    $('lockout').hidden = !locked;
    if (locked) setText('lockout', 'Driving off: ' + lo.text + '.');
    $('teleop-alert').hidden = !t.alert;
    setText('teleop-alert', t.alert);
    setText('s-drive', !t.open ? '–' : state.drive ? 'off: ' + driveWords[state.drive] : 'on');
    const ctl = state.control;
    $('control').hidden = !ctl;
    if (ctl) {
      const text = ctl.you ? 'You drive.' : (ctl.driver ? 'Another viewer drives' : 'Nobody drives') +
        (ctl.waiting ? '; you are next.' : '.');
      setText('control-text', text);
      $('control-ask').hidden = ctl.you;
      $('control-release').hidden = !ctl.you;
    }
    setText('s-control', !ctl ? '–' : ctl.you ? 'you drive' : ctl.driver ? 'another viewer' + (ctl.waiting ? ' (you are next)' : '') : 'nobody');
    document.querySelectorAll('#pad button[data-dir]').forEach((b) => {
      b.disabled = !!state.drive && b.dataset.dir !== 'stop';
    });
  }

  function render() {
    const [pill, kind, overlay] = headline();
    const p = $('pill');
    if (p.textContent !== pill) p.textContent = pill;
    p.dataset.kind = kind;
    document.body.dataset.kind = kind;
    const showing = isConnected() && state.framesDecoded > 0;
    $('overlay').hidden = showing || (isConnected() && !overlay);
    setText('overlay-text', overlay || 'Connected; waiting for the first picture…');
    $('spinner').hidden = kind === 'bad';

    setText('s-state', call ? call.pc.connectionState : 'no call');
    const pr = state.pair;
    setText('s-path', pr ? (pr.relayed ? 'relayed' : 'direct') + ' (' + pr.local + ' ↔ ' + pr.remote +
      (pr.relayProtocol ? ', ' + pr.relayProtocol + ' to the relay' : '') + ')' : '–');
    setText('s-rtt', fmtMs(state.rttMs));
    setText('s-signal', state.signaling + (state.signalingConnects > 1 ? ' (reconnected ' + (state.signalingConnects - 1) + '×)' : ''));
    setText('s-codec', state.videoCodec || '–');
    setText('s-size', state.frameWidth ? state.frameWidth + ' × ' + state.frameHeight : '–');
    setText('s-fps', state.fps ? Math.round(state.fps) + ' fps' : '–');
    setText('s-bitrate', fmtRate(state.bitrate));
    setText('s-latency', state.latencyMs !== null ? Math.round(state.latencyMs) + ' ms'
      : state.framesDecoded > 30 && misses > 30 ? 'no stamp in the picture' : '–');
    setText('s-audio', state.audioCodec ? state.audioCodec + (video.muted ? ' (muted here)' : '') : '–');
    setText('s-mic', state.mic === 'on' ? (state.micSent ? 'on, sending' : 'on') : state.mic);

    const sound = $('sound');
    sound.textContent = video.muted ? 'Unmute robot' : 'Mute robot';
    sound.setAttribute('aria-pressed', String(!video.muted));
    const talk = $('talk');
    talk.textContent = state.mic === 'on' ? 'Stop talking' : state.mic === 'asking' ? 'Asking…' : 'Talk to robot';
    talk.setAttribute('aria-pressed', String(state.mic === 'on'));
    renderTeleop();
  }

  window.avlinkViewer = {
    state: () => JSON.parse(JSON.stringify(state)),
  };

  setText('room', room);
  document.title = 'avlink viewer – ' + room;
  render();
  connectSignaling();
  setInterval(pollStats, 1000);
  setInterval(sampleGraphs, 1000);
  setInterval(safety, 100); // the lockout reacts within a tenth of a second
})();
