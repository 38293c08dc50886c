/**
 * The page's WebSocket bridge: Sautikit connects with the audio.drachtio.org
 * subprotocol, sends a JSON metadata frame, then live PCM; what we send back
 * is played to the lead. A hot lead → say so, then close the socket: the call
 * moves on to the answer webhook's next step (the redirect to /ai/after-stream,
 * which dials a rep).
 */
import type { Server } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { StandInBot } from './bot.js';
import type { LeadBook } from './leads.js';

export const SCRIPT = [
  'Hi, this is Zawadi from Acme. Is now a good time for a couple of quick questions?',
  'Are you the person who handles buying decisions for your team?',
  'Roughly how many seats would you need?',
  'What is your timeline to get started?',
];

export interface BridgeOptions {
  leads: LeadBook;
  /** Silence after a question that the stand-in bot takes as a spoken "yes" (ms). */
  answerTimeoutMs?: number;
}

/** Serves the bridge on `server` at /audio (the Stream url). */
export function attachBridge(server: Server, options: BridgeOptions): WebSocketServer {
  // Advertise the required subprotocol or Sautikit rejects the handshake.
  const wss = new WebSocketServer({ server, path: '/audio', handleProtocols: () => 'audio.drachtio.org' });
  wss.on('connection', (socket) => runSession(socket, options));
  return wss;
}

function runSession(socket: WebSocket, options: BridgeOptions): void {
  let bot: StandInBot | undefined;
  let step = 0;
  let marks = 0;
  let callId = '';
  // Set once the lead is routed: no more questions or listening.
  let done = false;
  // What to do when a mark comes back played out.
  const afterMark = new Map<string, () => void>();

  const speak = (text: string, then: () => void) => {
    const seconds = bot!.ask(text);
    const name = `m${++marks}`;
    afterMark.set(name, then);
    socket.send(JSON.stringify({ type: 'mark', data: { name } }));
    // Should the mark never come back, do not hold the lead forever.
    setTimeout(() => {
      const late = afterMark.get(name);
      afterMark.delete(name);
      late?.();
    }, seconds * 1000 + 3000).unref();
    options.leads.get(callId).said.push(text);
  };
  const hangUp = () => socket.close(1000, 'done');
  const askNext = () => {
    const asked = step;
    speak(SCRIPT[asked]!, () => { if (!done && step === asked) bot?.listen(); });
  };
  const warmTransfer = () => speak('Great, let me connect you to a specialist now.', hangUp);
  const closePolitely = () => speak('Thank you for your time. Goodbye.', hangUp);

  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      if (callId) options.leads.get(callId).framesIn += 1;
      bot?.pushAudio(data as Buffer);
      return;
    }
    const message = JSON.parse(String(data));
    if (!bot) {
      // The first text frame: the call's metadata.
      callId = message.callId;
      const lead = options.leads.get(callId);
      lead.metadata = message;
      bot = new StandInBot(message.sampleRate, options.answerTimeoutMs ?? 8000);
      // LLM audio replies → back down the same socket to the caller.
      bot.on('audio', (pcm) => socket.send(pcm));
      // When the model finishes an answer, advance the script or route the lead.
      bot.on('answer', ({ text, hot, stop }) => {
        lead.answers.push({ step, text });
        if (hot) {
          done = true;
          lead.hot = true;
          return warmTransfer();
        }
        if (!stop && ++step < SCRIPT.length) return askNext();
        done = true;
        closePolitely();
      });
      askNext();
    } else if (message.event === 'dtmf') {
      options.leads.get(callId).digits.push(message.dtmf);
      // Barge-in: the lead answered, stop the question still playing (its mark comes back "cleared").
      socket.send(JSON.stringify({ type: 'killAudio' }));
      bot.pushDigit(message.dtmf);
    } else if (message.type === 'mark') {
      const { name, event } = message.data ?? {};
      options.leads.get(callId).marks.push(`${name}:${event}`);
      const then = afterMark.get(name);
      afterMark.delete(name);
      if (event === 'playout') then?.();
    }
  });
  socket.on('close', () => bot?.close());
}
