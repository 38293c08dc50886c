/**
 * The softphone page's HTML and its browser script (an ES module importing
 * SIP.js from this server). Kept as strings so the page needs no build step.
 * The script exposes `window.softphone` (state, call, answer, hangup, mute,
 * dtmf, transfer, and audio figures), which the browser tests drive and read.
 */

/** The page; `prefix` is where it is served. */
export function softphoneHtml(prefix: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Softphone · Sautikit</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 24rem; margin: 1rem auto; padding: 0 1rem; color: #1d2433; }
  h1 { font-size: 1.3rem; }
  label { display: block; margin: .4rem 0 .1rem; font-size: .85rem; }
  input { width: 100%; box-sizing: border-box; padding: .45rem; font-size: 1rem; }
  button { padding: .6rem; font-size: 1rem; border-radius: .4rem; border: 1px solid #8a94a6; background: #f4f6fa; cursor: pointer; }
  button.go { background: #1f7a3e; color: #fff; border-color: #1f7a3e; }
  button.stop { background: #b3261e; color: #fff; border-color: #b3261e; }
  button[aria-pressed="true"] { background: #394150; color: #fff; }
  .row { display: flex; gap: .5rem; margin: .6rem 0; }
  .row > * { flex: 1; }
  .pad { display: grid; grid-template-columns: repeat(3, 1fr); gap: .4rem; margin: .6rem 0; }
  #status { padding: .5rem; background: #eef1f6; border-radius: .4rem; min-height: 1.2rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<h1>Softphone</h1>
<form id="login">
  <label for="user">SIP username</label><input id="user" name="user" autocomplete="username" required>
  <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
  <label for="domain">Domain (e.g. acme.sip.example.com)</label><input id="domain" name="domain" required>
  <div class="row"><button class="go" type="submit">Register</button></div>
</form>
<section id="phone" hidden>
  <p id="status" role="status" aria-live="polite">Not registered</p>
  <label for="number">Number or SIP user</label><input id="number" inputmode="tel" autocomplete="off">
  <div class="pad" id="pad">
    ${['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((d) => `<button type="button" data-digit="${d}">${d}</button>`).join('')}
  </div>
  <div class="row">
    <button id="call" class="go" type="button">Call</button>
    <button id="answer" class="go" type="button" hidden>Answer</button>
    <button id="hangup" class="stop" type="button" disabled>Hang up</button>
    <button id="mute" type="button" aria-pressed="false" disabled>Mute</button>
  </div>
  <div class="row"><button id="unregister" type="button">Sign out</button></div>
</section>
<audio id="remote" autoplay></audio>
<script type="module" src="${prefix}/app.js"></script>
</body>
</html>
`;
}

/** The browser side. */
export const softphoneScript = String.raw`
import { Inviter, Registerer, SessionState, UserAgent } from './sip.js/index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const state = { registered: false, call: 'idle', muted: false, error: '', digitsSent: '', dtmfVia: '', transfer: '' };
let ua, registerer, session, analyser, audioContext;

function show(text) { $('status').textContent = text; }
function setCall(next) {
  state.call = next;
  $('call').disabled = next !== 'idle';
  $('answer').hidden = next !== 'incoming';
  $('hangup').disabled = next === 'idle';
  $('mute').disabled = next !== 'established';
  show({ idle: state.registered ? 'Registered as ' + ua.configuration.uri.user : 'Not registered', incoming: 'Incoming call…', calling: 'Calling…', established: 'In call', ending: 'Hanging up…' }[next] || next);
}

function wsServer() {
  return params.get('server') || (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/sip/ws';
}

async function register(user, password, domain) {
  ua = new UserAgent({
    uri: UserAgent.makeURI('sip:' + user + '@' + domain),
    transportOptions: { server: wsServer() },
    authorizationUsername: user,
    authorizationPassword: password,
    logLevel: 'warn',
    // No STUN or TURN servers: the platform is ICE lite with a reachable address, and nothing may leave the network.
    sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 1000 },
    delegate: {
      onInvite(invitation) {
        if (session) { invitation.reject({ statusCode: 486 }); return; }
        track(invitation);
        setCall('incoming');
      },
    },
  });
  await ua.start();
  registerer = new Registerer(ua, { expires: 300 });
  registerer.stateChange.addListener((s) => {
    state.registered = s === 'Registered';
    if (state.call === 'idle') setCall('idle');
  });
  await registerer.register({ requestDelegate: { onReject(response) { state.error = 'register: ' + response.message.statusCode; show('Registration refused (' + response.message.statusCode + ')'); } } });
  $('login').hidden = true;
  $('phone').hidden = false;
}

function track(s) {
  session = s;
  s.stateChange.addListener((next) => {
    if (next === SessionState.Established) { setCall('established'); attachAudio(s); }
    if (next === SessionState.Terminated) { session = undefined; state.muted = false; $('mute').setAttribute('aria-pressed', 'false'); setCall('idle'); }
  });
}

function peer(s) { return s && s.sessionDescriptionHandler && s.sessionDescriptionHandler.peerConnection; }

function attachAudio(s) {
  const pc = peer(s);
  if (!pc) return;
  const tracks = pc.getReceivers().map((r) => r.track).filter((t) => t && t.kind === 'audio');
  const stream = new MediaStream(tracks);
  $('remote').srcObject = stream;
  audioContext = audioContext || new AudioContext();
  analyser = audioContext.createAnalyser();
  analyser.fftSize = 2048;
  audioContext.createMediaStreamSource(stream).connect(analyser);
}

async function call(target) {
  const domain = ua.configuration.uri.host;
  const uri = UserAgent.makeURI(target.startsWith('sip:') ? target : 'sip:' + target + '@' + domain);
  if (!uri) { show('Not a number or SIP address: ' + target); return; }
  const inviter = new Inviter(ua, uri, { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
  track(inviter);
  setCall('calling');
  await inviter.invite();
}

function answer() {
  if (session && state.call === 'incoming') session.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
}

function hangup() {
  if (!session) return;
  // Before the request: SIP.js may report the session terminated at once.
  setCall('ending');
  if (session.state === SessionState.Established) session.bye();
  else if (session instanceof Inviter) session.cancel();
  else session.reject();
}

// Blind transfer (RFC 3515 REFER): the platform connects the other party to the target and ends our leg.
function transfer(target) {
  if (!session || state.call !== 'established') return;
  const uri = UserAgent.makeURI(target.startsWith('sip:') ? target : 'sip:' + target + '@' + ua.configuration.uri.host);
  if (!uri) { show('Not a number or SIP address: ' + target); return; }
  state.transfer = 'requested';
  session.refer(uri, { requestDelegate: { onAccept() { state.transfer = 'accepted'; }, onReject(response) { state.transfer = 'refused ' + response.message.statusCode; } } });
}

function mute(on) {
  const pc = peer(session);
  if (!pc) return;
  state.muted = on;
  for (const sender of pc.getSenders()) if (sender.track) sender.track.enabled = !on;
  $('mute').setAttribute('aria-pressed', String(on));
}

// DTMF in the media as RFC 4733 telephone-events (the browser's RTCDTMFSender) when the call negotiated them,
// as a phone sends it; else as SIP INFO (application/dtmf-relay). The platform's getDigits hears either.
function dtmf(digits) {
  if (!session || state.call !== 'established') return;
  state.digitsSent += digits;
  const pc = peer(session);
  const sender = pc && pc.getSenders().find((s) => s.dtmf);
  if (sender && sender.dtmf.canInsertDTMF) {
    // insertDTMF replaces the tones not yet played: keep them, so quick presses are all sent.
    sender.dtmf.insertDTMF(sender.dtmf.toneBuffer + digits, 100, 70);
    state.dtmfVia = 'rfc4733';
    return;
  }
  state.dtmfVia = 'info';
  for (const digit of digits) session.info({ requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: 'Signal=' + digit + '\r\nDuration=160\r\n' } } });
}

/** RMS (0..1) of what the far end sends us now, from the analyser. */
function inboundLevel() {
  if (!analyser) return 0;
  const data = new Float32Array(analyser.fftSize);
  analyser.getFloatTimeDomainData(data);
  let sum = 0;
  for (const v of data) sum += v * v;
  return Math.sqrt(sum / data.length);
}

/** WebRTC figures: inbound and outbound RTP audio. */
async function stats() {
  const pc = peer(session);
  const out = { inbound: null, outbound: null };
  if (!pc) return out;
  (await pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') out.inbound = { packetsReceived: r.packetsReceived, totalAudioEnergy: r.totalAudioEnergy, audioLevel: r.audioLevel, codec: r.codecId };
    if (r.type === 'outbound-rtp' && r.kind === 'audio') out.outbound = { packetsSent: r.packetsSent };
  });
  return out;
}

/** The WebRTC session's states and SDPs, for diagnostics. */
function connection() {
  const pc = peer(session);
  return pc ? { ice: pc.iceConnectionState, connection: pc.connectionState, local: pc.localDescription && pc.localDescription.sdp, remote: pc.remoteDescription && pc.remoteDescription.sdp } : null;
}

window.softphone = { state, call, answer, hangup, mute, dtmf, transfer, inboundLevel, stats, connection, peerConnection: () => peer(session), session: () => session };

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  register($('user').value, $('password').value, $('domain').value).catch((err) => { state.error = String(err); show('Could not register: ' + err); });
});
$('call').addEventListener('click', () => { const n = $('number').value.trim(); if (n) call(n).catch((err) => show(String(err))); });
$('answer').addEventListener('click', answer);
$('hangup').addEventListener('click', hangup);
$('mute').addEventListener('click', () => mute(!state.muted));
$('unregister').addEventListener('click', async () => { await registerer?.unregister(); await ua?.stop(); location.reload(); });
$('pad').addEventListener('click', (e) => {
  const digit = e.target.dataset && e.target.dataset.digit;
  if (!digit) return;
  if (state.call === 'established') dtmf(digit);
  else $('number').value += digit;
});

if (params.get('user') && params.get('password') && params.get('domain')) {
  $('user').value = params.get('user'); $('domain').value = params.get('domain');
  register(params.get('user'), params.get('password'), params.get('domain')).catch((err) => { state.error = String(err); show('Could not register: ' + err); });
}
`;
