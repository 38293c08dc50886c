/**
 * Page 001, "Build a Call Center with Conferences": the hold room, the agent
 * joining it, room events, warm transfer to a second agent and a muted
 * supervisor.
 */
import type { Express } from 'express';
import type { RouteContext } from './options.js';

/** Unique room names per call isolate conversations. */
export function conferenceRoomName(callId: string): string {
  return `support-${callId.slice(-8)}`;
}

export function supportConferenceRoutes(app: Express, ctx: RouteContext): void {
  const { options, state, fromSautikit } = ctx;
  const { publicUrl } = options;
  const events = `${publicUrl}/conference-events`;
  const log = options.log ?? console.log;

  // Who is the customer in each room (for the agent's keypad mute).
  const customerOfRoom = new Map<string, string>();

  // A customer calls the support number: hold them in their own room until an agent joins.
  app.post('/support/inbound', fromSautikit, (req, res) => {
    customerOfRoom.set(conferenceRoomName(req.body.CallId), req.body.CallId);
    res.json({
      actions: [
        {
          say: {
            text: 'Thank you for calling Acme support. Please hold while we connect you to an agent.',
            voice: 'alice',
            language: 'en-US',
          },
        },
        {
          conference: {
            name: conferenceRoomName(req.body.CallId),
            startOnEnter: false,
            endOnExit: true,
            beep: false,
            waitUrl: `${publicUrl}/hold-music`,
            statusEventsCallbackUrl: events,
            statusEvents: 'start end join leave mute unmute',
          },
        },
      ],
    });
  });

  // The agent answered: announce the caller and join the room, which starts it.
  app.post('/agent-voice', fromSautikit, (req, res) => {
    const roomName = String(req.query.room);
    // The page's warm-transfer rule: the incoming agent joins with endOnExit false, so the room survives the handoff.
    const incoming = req.query.transfer === '1';
    res.json({
      actions: [
        {
          say: {
            text: 'You are now connected to a caller.',
            voice: 'alice',
            language: 'en-US',
          },
        },
        {
          conference: {
            name: roomName,
            startOnEnter: true, // start the conference when agent joins
            endOnExit: !incoming, // end conference when agent hangs up
            beep: true, // beep so caller knows agent arrived
            muted: false,
            statusEventsCallbackUrl: events,
            statusEvents: 'start end join leave mute unmute',
            record: true, // record from when agent joins
            // In-conference DTMF: the agent mutes (1) and unmutes (2) the caller from the keypad.
            collectDigits: true,
            numDigits: 1,
            finishOnKey: '',
            digitsCallbackUrl: `${publicUrl}/dtmf`,
          },
        },
      ],
    });
  });

  // A supervisor listening in: heard by nobody.
  app.post('/supervisor-voice', fromSautikit, (req, res) => {
    res.json({
      actions: [
        {
          conference: {
            name: String(req.query.room),
            muted: true,
            startOnEnter: false,
          },
        },
      ],
    });
  });

  // Keys an agent pressed in the room (ConferenceName tells which room).
  app.post('/dtmf', fromSautikit, async (req, res) => {
    const room = String(req.body.ConferenceName);
    const customer = customerOfRoom.get(room);
    const muted = req.body.Digits === '1' ? true : req.body.Digits === '2' ? false : undefined;
    if (customer && muted !== undefined) {
      await ctx.api('PATCH', `/v1/conferences/${encodeURIComponent(room)}/participants/${customer}`, { muted });
    }
    // Digits callbacks may answer actions; the agent simply stays in the room.
    res.json({ actions: [] });
  });

  app.post('/conference-events', fromSautikit, (req, res) => {
    state.conferenceEvents.push(req.body);
    // The page's handler as written: the fields are at the top level of the body.
    const { event, conference_name, caller, participants } = req.body;
    switch (event) {
      case 'start':
        log(`Conference ${conference_name} started`);
        break;
      case 'join':
        log(`${caller} joined ${conference_name} (${participants} in room)`);
        break;
      case 'leave':
        log(`${caller} left ${conference_name} (${participants} remaining)`);
        if (participants === 0) log(`Conference ${conference_name} is empty`);
        break;
      case 'mute':
        log(`${caller} was muted in ${conference_name}`);
        break;
      case 'unmute':
        log(`${caller} was unmuted in ${conference_name}`);
        break;
      case 'end':
        log(`Conference ${conference_name} ended`);
        break;
    }
    res.sendStatus(200);
  });

  // Your back office: assign an agent to a waiting room (the page's curl to /v1/calls/originate).
  app.post('/support/assign', async (req, res) => {
    const { room, agentNumber } = req.body;
    const call = await ctx.placeCall('/v1/calls/originate', {
      to: agentNumber,
      from: options.number,
      voice_callback_url: `${publicUrl}/agent-voice?room=${encodeURIComponent(room)}`,
    }, `agent for ${room}`);
    res.json({ call_id: call.id });
  });

  // Originate a second agent leg into the same room.
  app.post('/support/warm-transfer', async (req, res) => {
    const { room, agentNumber } = req.body;
    const call = await ctx.placeCall('/v1/calls/originate', {
      to: agentNumber,
      from: options.number,
      voice_callback_url: `${publicUrl}/agent-voice?room=${encodeURIComponent(room)}&transfer=1`,
    }, `transfer for ${room}`);
    // Agent 2 joins; when agent 1 hangs up, the conference continues with the caller and agent 2.
    res.json({ call_id: call.id });
  });

  app.post('/support/supervise', async (req, res) => {
    const { room, supervisorNumber } = req.body;
    const call = await ctx.placeCall('/v1/calls/originate', {
      to: supervisorNumber,
      from: options.number,
      voice_callback_url: `${publicUrl}/supervisor-voice?room=${encodeURIComponent(room)}`,
    }, `supervisor for ${room}`);
    res.json({ call_id: call.id });
  });
}
