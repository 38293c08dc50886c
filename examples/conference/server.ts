/**
 * The conference page (003) as a runnable app: /conference/join puts the
 * caller in a named room (?room=…, ?host=1 for the host), /conference/events
 * receives the room's status events, and dialParticipant() is the page's
 * "dial a participant into the room" curl.
 */
import express, { type Express } from 'express';
import { holdMusicWav } from '../shared/audio.js';
import { bodyParsers, env, isMain, requireSautikitSignature, sautikitApi } from '../shared/webhook.js';

export interface ConferenceOptions {
  /** How Sautikit reaches this app, e.g. http://127.0.0.1:3000. */
  publicUrl: string;
  /** With the Sautikit URL and API key the join webhook checks the room's size before sending a caller in. */
  sautikitUrl?: string;
  apiKey?: string;
  signingSecret?: string;
  /** Room size (the page's maxParticipants: 10). */
  maxParticipants?: number;
  /** Record rooms: the host's join carries record: true. */
  record?: boolean;
  log?: (line: string) => void;
}

export interface ConferenceEventRecord {
  ConferenceName: string;
  StatusCallbackEvent: string;
  CallId?: string;
  /** The whole event, both spellings. */
  fields: Record<string, any>;
}

export function createApp(options: ConferenceOptions): Express {
  const { publicUrl } = options;
  const maxParticipants = options.maxParticipants ?? 10;
  const log = options.log ?? console.log;
  const events: ConferenceEventRecord[] = [];
  const app = express();
  app.locals.conferenceEvents = events;
  // The waitUrl (the page's hold-music.mp3): a generated WAV, looped by the platform while guests wait.
  // Audio fetches are plain GETs without a signature (like a CDN's), so this route comes before the check.
  app.get('/hold-music', (_req, res) => {
    res.type('audio/wav').send(holdMusicWav());
  });
  app.use(...bodyParsers(), requireSautikitSignature(options.signingSecret));

  // Attach this URL to a Sautikit number as the routing_url.
  app.post('/conference/join', async (req, res) => {
    const roomName = String(req.query.room ?? 'default-room');
    const isHost = req.query.host === '1';

    // The page's advice: check the room's size first and answer Say + Hangup when it is full.
    if (await roomIsFull(roomName)) {
      return res.json({ actions: [{ say: { text: `Sorry, ${roomName} is full.` } }, { hangup: {} }] });
    }

    res.json({
      actions: [
        {
          say: {
            text: isHost
              ? `You are joining ${roomName} as the host.`
              : `You are joining ${roomName}. Please wait for the host.`,
          },
        },
        {
          conference: {
            name: roomName,
            startOnEnter: isHost,
            endOnExit: isHost, // end room when host leaves
            beep: true, // audible join/leave tone
            maxParticipants,
            waitUrl: `${publicUrl}/hold-music`,
            statusEventsCallbackUrl: `${publicUrl}/conference/events`,
            statusEvents: 'start end join leave mute unmute',
            ...(options.record && isHost ? { record: true } : {}),
          },
        },
      ],
    });
  });

  // Conference status events from Sautikit.
  app.post('/conference/events', (req, res) => {
    // The page's handler as written: the fields are at the top level of the body.
    const fields = req.body;
    const { ConferenceName, StatusCallbackEvent, CallId } = req.body;
    log(`[${ConferenceName}] event=${StatusCallbackEvent} call=${CallId}`);
    // Update your participant list in the DB here.
    events.push({ ConferenceName, StatusCallbackEvent, CallId, fields });
    res.sendStatus(204);
  });

  async function roomIsFull(roomName: string): Promise<boolean> {
    if (!options.sautikitUrl || !options.apiKey) return false;
    try {
      const room = await sautikitApi(options.sautikitUrl, options.apiKey, 'GET', `/v1/conferences/${encodeURIComponent(roomName)}`);
      return room.participant_count >= maxParticipants;
    } catch {
      return false; // no such room yet
    }
  }

  return app;
}

/** The room's status events this app received. */
export function conferenceEvents(app: Express): ConferenceEventRecord[] {
  return app.locals.conferenceEvents as ConferenceEventRecord[];
}

/** The page's curl: dial a participant; on answer, Sautikit POSTs /conference/join?room=… and they join the room. */
export async function dialParticipant(input: { sautikitUrl: string; apiKey: string; publicUrl: string; from: string; to: string; room: string; host?: boolean }): Promise<{ id: string }> {
  return sautikitApi(input.sautikitUrl, input.apiKey, 'POST', '/v1/calls', {
    to: input.to,
    from: input.from,
    action_url: `${input.publicUrl}/conference/join?room=${encodeURIComponent(input.room)}${input.host ? '&host=1' : ''}`,
  });
}

if (isMain(import.meta.url)) {
  const port = Number(env('PORT', '3000'));
  const publicUrl = env('PUBLIC_URL', `http://127.0.0.1:${port}`);
  const app = createApp({
    publicUrl, sautikitUrl: env('SAUTIKIT_URL', 'http://127.0.0.1:8080'), apiKey: process.env.SAUTIKIT_API_KEY,
    signingSecret: process.env.SAUTIKIT_SIGNING_SECRET, record: process.env.RECORD === '1',
  });
  app.listen(port, () => console.log(`conference app listening on :${port}; routing_url ${publicUrl}/conference/join?room=meeting-99`));
}
