/**
 * Page 000, "Run a call center without the platform": inbound routing (agent
 * free → dial them; none → hold conference), the queue worker's
 * /calls/connect-agent, and the outbound campaign.
 */
import type { Express } from 'express';
import type { RouteContext } from './options.js';
import { holdMusicWav } from '../shared/audio.js';

export function inboundQueueRoutes(app: Express, ctx: RouteContext): void {
  const { options, state, fromSautikit } = ctx;
  const { publicUrl } = options;
  const { findAvailableAgent, enqueueCall, dequeueCall } = state.store;

  // Sautikit calls this when a customer dials your number.
  app.post('/calls/inbound', fromSautikit, async (req, res) => {
    const callId = req.body.CallId;
    const agent = await findAvailableAgent();

    if (agent) {
      // Agent is free: dial directly.
      agent.markBusy();
      return res.json({
        actions: [
          { say: { text: 'Connecting you to an agent.' } },
          {
            dial: {
              number: agent.phoneNumber,
              callerId: req.body.To,
              timeout: 30,
            },
          },
        ],
      });
    }

    // No agent: put caller in a named hold conference.
    await enqueueCall(callId);
    return res.json({
      actions: [
        { say: { text: 'All agents are currently with other customers. Please hold.' } },
        {
          conference: {
            name: `queue-${callId}`,
            startOnEnter: false,
            waitUrl: `${publicUrl}/hold-music`,
            statusEventsCallbackUrl: `${publicUrl}/calls/queue-events`,
            statusEvents: 'join leave end',
            endOnExit: true,
          },
        },
      ],
    });
  });

  // The hold room's waitUrl: a WAV the platform loops while the caller waits.
  app.get('/hold-music', (_req, res) => {
    res.type('audio/wav').send(holdMusicWav());
  });

  app.post('/calls/queue-events', fromSautikit, async (req, res) => {
    const event = req.body;
    state.queueEvents.push(event);
    // A caller who hung up while holding is no longer waiting.
    if (event.event === 'leave' && typeof event.conference_name === 'string' && event.conference_name === `queue-${event.call_id}`) await dequeueCall(event.call_id);
    res.sendStatus(204);
  });

  // Your background queue worker calls this when an agent becomes available.
  app.post('/calls/connect-agent', async (req, res) => {
    const { agentNumber } = req.body;
    const customerCallId = await dequeueCall(req.body.customerCallId);
    if (!customerCallId) return res.status(404).json({ error: 'nobody is waiting' });

    // Dial the agent; when they answer, join the customer's conference.
    const agentCall = await ctx.placeCall('/v1/calls', {
      to: agentNumber,
      from: options.number,
      action_url: `${publicUrl}/calls/agent-join?queue=${customerCallId}`,
    }, `agent for ${customerCallId}`);

    res.json({ ok: true, call_id: agentCall.id });
  });

  // When the agent answers, join the customer's hold conference.
  app.post('/calls/agent-join', fromSautikit, (req, res) => {
    const customerCallId = req.query.queue;
    return res.json({
      actions: [
        {
          conference: {
            name: `queue-${customerCallId}`,
            startOnEnter: true,
            endOnExit: true,
            beep: false,
          },
        },
      ],
    });
  });

  // The agent's desktop says they are free again.
  app.post('/agents/:id/free', (req, res) => {
    const agent = state.store.agents.find((a) => a.id === req.params.id);
    if (!agent) return res.sendStatus(404);
    agent.markFree();
    res.json({ id: agent.id, busy: agent.busy });
  });

  // Outbound campaign: the page's curl, from your back office.
  app.post('/campaign/call', async (req, res) => {
    const call = await ctx.placeCall('/v1/calls', {
      to: req.body.to,
      from: options.number,
      action_url: `${publicUrl}/calls/outbound-answer`,
      status_url: `${publicUrl}/calls/outbound-status`,
    }, 'campaign');
    res.status(201).json({ call_id: call.id });
  });

  // The contact answered: connect them to a free agent, or apologise.
  app.post('/calls/outbound-answer', fromSautikit, async (req, res) => {
    const agent = await findAvailableAgent();
    if (!agent) return res.json({ actions: [{ say: { text: 'Sorry, all our agents are busy. We will call you back.' } }, { hangup: {} }] });
    agent.markBusy();
    return res.json({
      actions: [
        { say: { text: 'Hello from Acme. Connecting you to an agent.' } },
        { dial: { number: agent.phoneNumber, callerId: req.body.From, timeout: 30 } },
      ],
    });
  });

  app.post('/calls/outbound-status', fromSautikit, (req, res) => {
    state.outboundStatus.push(req.body);
    res.sendStatus(204);
  });
}
