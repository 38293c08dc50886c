import { describe, expect, it } from 'vitest';
import { ActionValidationError } from '../../src/actions/action-node.js';
import { parseActions, parseActionsReporting } from '../../src/actions/parse-actions.js';

const json = (value: unknown) => parseActions({ format: 'json', value });
const xml = (text: string) => parseActions({ format: 'xml', text });
function failure(run: () => unknown): ActionValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ActionValidationError) return error;
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('parseActions (JSON)', () => {
  it('reads the IVR page\'s welcome: getDigits with a nested say and finishOnKey ""', () => {
    expect(json({
      actions: [{ getDigits: { numDigits: 1, timeout: 5, finishOnKey: '', action: 'https://yourapp.example.com/ivr/route',
        nested: [{ say: { text: 'Welcome to Acme Corp. Press 1 for sales.', language: 'en-US' } }] } }],
    })).toEqual([{
      kind: 'getDigits', numDigits: 1, timeoutSeconds: 5, finishOnKey: '', action: 'https://yourapp.example.com/ivr/route', method: 'POST',
      nested: [{ kind: 'say', text: 'Welcome to Acme Corp. Press 1 for sales.', language: 'en-US', voice: undefined, loop: 1 }],
    }]);
  });

  it('reads the call-center page: say then dial with callerId and timeout, defaults applied', () => {
    expect(json({ actions: [{ say: { text: 'Connecting you to an agent.' } }, { dial: { number: '+254720000001', callerId: '+254700000001', timeout: 30 } }] })).toEqual([
      { kind: 'say', text: 'Connecting you to an agent.', voice: undefined, language: 'en-US', loop: 1 },
      { kind: 'dial', targets: [{ kind: 'number', value: '+254720000001' }], callerId: '+254700000001', timeoutSeconds: 30, timeLimitSeconds: undefined, action: undefined, record: false, hangupOnStar: false },
    ]);
  });

  it('reads a bare array, dial to several targets and sip: URIs, redirect and hangup', () => {
    const actions = json([
      { dial: { number: ['+254720000001', '254720000002'], sip: 'sip:agent@pbx.example.com' } },
      { redirect: { url: 'https://yourapp.example.com/ivr/welcome' } },
      { hangup: {} },
    ]);
    expect(actions[0]).toMatchObject({ kind: 'dial', targets: [{ kind: 'number', value: '+254720000001' }, { kind: 'number', value: '+254720000002' }, { kind: 'sip', value: 'sip:agent@pbx.example.com' }] });
    expect(actions[1]).toEqual({ kind: 'redirect', url: 'https://yourapp.example.com/ivr/welcome', method: 'POST' });
    expect(actions[2]).toEqual({ kind: 'hangup' });
  });

  it('reads the conference pages\' fields with their defaults', () => {
    const [conf] = json({ actions: [{ conference: { name: 'support-queue-001', startOnEnter: false, endOnExit: true, beep: false,
      waitUrl: 'https://cdn.example.com/hold-music.mp3', statusEventsCallbackUrl: 'https://ivr.example.com/conference-events', statusEvents: 'start end join leave mute unmute' } }] });
    expect(conf).toEqual({
      kind: 'conference', name: 'support-queue-001', startOnEnter: false, endOnExit: true, beep: false, muted: false, maxParticipants: 250,
      waitUrl: 'https://cdn.example.com/hold-music.mp3', record: false, statusEventsCallbackUrl: 'https://ivr.example.com/conference-events',
      statusEvents: ['start', 'end', 'join', 'leave', 'mute', 'unmute'], collectDigits: false, numDigits: undefined, finishOnKey: '', digitsCallbackUrl: undefined,
    });
  });

  it('ignores unknown extra fields (the pages send voice: "alice")', () => {
    expect(json([{ say: { text: 'Hi', voice: 'alice', language: 'en-US', colour: 'blue' } }])).toEqual([{ kind: 'say', text: 'Hi', voice: 'alice', language: 'en-US', loop: 1 }]);
  });

  it('names the action index and field of a wrong type', () => {
    const e = failure(() => json({ actions: [{ say: { text: 'ok' } }, { getDigits: { numDigits: 'one' } }] }));
    expect(e).toMatchObject({ index: 1, action: 'getDigits', field: 'numDigits', path: 'actions[1]' });
    expect(e.message).toBe('actions[1].getDigits.numDigits must be a whole number from 1 to 64');
    expect(failure(() => json([{ dial: { number: 'not a number' } }]))).toMatchObject({ index: 0, field: 'number' });
    expect(failure(() => json([{ play: {} }]))).toMatchObject({ field: 'url', message: 'actions[0].play.url is required' });
    expect(failure(() => json([{ getDigits: { nested: [{ say: { text: 1 } }] } }])).message).toBe('actions[0].getDigits.nested[0].say.text must be a string');
    expect(failure(() => json([{ getDigits: { nested: [{ hangup: {} }] } }]))).toMatchObject({ field: 'nested[0]' });
    expect(failure(() => json([{ stream: { url: 'https://not-a-socket.example.com' } }]))).toMatchObject({ field: 'url' });
    const ws = 'wss://agent.example.com/s';
    expect(failure(() => json([{ stream: { url: ws, mixType: 'stereo', track: 'inbound_track' } }]))).toMatchObject({ field: 'mixType' });
    expect(failure(() => json([{ stream: { url: ws, sampleRate: 16000, outputSamplingRate: 8000 } }]))).toMatchObject({ field: 'sampleRate' });
    expect(failure(() => json([{ stream: { url: ws, bidirectionalAudio: { sampleRate: 44100 } } }])).message)
      .toBe('actions[0].stream.bidirectionalAudio.sampleRate must be one of 8000, 16000, 24000, 32000, 48000');
    expect(failure(() => json([{ stream: { url: ws, bidirectionalAudio: { streaming: 'yes' } } }]))).toMatchObject({ field: 'bidirectionalAudio.streaming' });
    expect(failure(() => json([{ stream: { url: ws, bidirectionalAudio: 'on' } }]))).toMatchObject({ field: 'bidirectionalAudio' });
    expect(failure(() => json([{ stream: { url: ws, wsAuth: { username: 'a:b', password: 'x' } } }]))).toMatchObject({ field: 'wsAuth.username' });
    expect(failure(() => json([{ stream: { url: ws, wsAuth: { username: 'a' } } }]))).toMatchObject({ field: 'wsAuth.password' });
    expect(failure(() => json([{ stream: { url: ws, passDtmf: 'no' } }]))).toMatchObject({ field: 'passDtmf' });
    expect(failure(() => json([{ conference: { name: 'x', statusEvents: 'start explode' } }]))).toMatchObject({ field: 'statusEvents' });
  });

  it('refuses unknown actions with the list of known ones, and malformed documents', () => {
    const e = failure(() => json({ actions: [{ sayy: { text: 'x' } }] }));
    expect(e.message).toBe("actions[0] is an unknown action 'sayy'; known actions: say, play, getDigits, dial, conference, redirect, hangup, pause, reject, record, stream");
    expect(failure(() => json({ actions: 'say hi' })).message).toBe('actions must be an array');
    expect(failure(() => json({ hello: 1 })).message).toMatch(/must be \{"actions":\[…\]\}/);
    expect(failure(() => json([{ say: { text: 'a' }, play: { url: 'https://x.example/a.wav' } }])).message).toMatch(/exactly one key/);
    expect(failure(() => json([42])).message).toMatch(/must be an object/);
  });
});

describe('parseActions (XML)', () => {
  it('reads the AI page\'s <Stream> with every attribute', () => {
    expect(xml(`<Response>
  <Stream
    name="lead-qualifier"
    url="wss://your-app.example.com/audio"
    track="both_tracks"
    outputSamplingRate="16000"
    statusCallback="https://your-app.example.com/stream-status"
    statusEvents="stream-started stream-stopped stream-error" />
</Response>`)).toEqual([{
      kind: 'stream', name: 'lead-qualifier', url: 'wss://your-app.example.com/audio', track: 'both_tracks', mixed: false, outputSamplingRate: 16000,
      statusCallback: 'https://your-app.example.com/stream-status', statusEvents: ['stream-started', 'stream-stopped', 'stream-error'], metadata: {},
      bidirectionalAudio: { enabled: true, streaming: true, sampleRate: 16000 }, passDtmf: true, wsAuth: undefined,
    }]);
  });

  it('reads a <Stream> with jambonz names, nested objects as JSON attributes', () => {
    expect(xml(`<Response><Stream url="wss://agent.example.com/s" sampleRate="16000" mixType="mixed" passDtmf="false"
      bidirectionalAudio='{"enabled":true,"streaming":true,"sampleRate":24000}' wsAuth='{"username":"bot","password":"s3cret"}' /></Response>`)).toEqual([{
      kind: 'stream', name: undefined, url: 'wss://agent.example.com/s', track: 'both_tracks', mixed: true, outputSamplingRate: 16000,
      statusCallback: undefined, statusEvents: ['stream-started', 'stream-stopped', 'stream-error'], metadata: {},
      bidirectionalAudio: { enabled: true, streaming: true, sampleRate: 24000 }, passDtmf: false, wsAuth: { username: 'bot', password: 's3cret' },
    }]);
  });

  it('reads text content, nested prompts, Dial children and typed attributes', () => {
    const actions = xml(`<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="alice" loop="2">Hello &amp; welcome</Say>
  <GetDigits numDigits="1" timeout="3" finishOnKey="" action="https://app.example.com/route"><Say>Press 1</Say><Pause length="1"/></GetDigits>
  <Dial callerId="+254700000001" timeout="20" record="true"><Number>+254720000001</Number><Sip>sip:agent@pbx.example.com</Sip></Dial>
  <Dial>+254720000002</Dial>
  <Conference startOnEnter="false" endOnExit="true" maxParticipants="10">meeting-99</Conference>
  <Redirect>https://app.example.com/next?x=1</Redirect>
  <Reject reason="busy"/>
  <Hangup/>
</Response>`);
    expect(actions.map((a) => a.kind)).toEqual(['say', 'getDigits', 'dial', 'dial', 'conference', 'redirect', 'reject', 'hangup']);
    expect(actions[0]).toEqual({ kind: 'say', text: 'Hello & welcome', voice: 'alice', language: 'en-US', loop: 2 });
    expect(actions[1]).toMatchObject({ numDigits: 1, timeoutSeconds: 3, finishOnKey: '', nested: [{ kind: 'say', text: 'Press 1' }, { kind: 'pause', lengthSeconds: 1 }] });
    expect(actions[2]).toMatchObject({ callerId: '+254700000001', timeoutSeconds: 20, record: true, targets: [{ kind: 'number', value: '+254720000001' }, { kind: 'sip', value: 'sip:agent@pbx.example.com' }] });
    expect(actions[3]).toMatchObject({ targets: [{ kind: 'number', value: '+254720000002' }] });
    expect(actions[4]).toMatchObject({ name: 'meeting-99', startOnEnter: false, endOnExit: true, maxParticipants: 10 });
    expect(actions[5]).toEqual({ kind: 'redirect', url: 'https://app.example.com/next?x=1', method: 'POST' });
    expect(actions[6]).toEqual({ kind: 'reject', reason: 'busy' });
  });

  it('names the index and attribute of a bad value, and refuses other roots and broken XML', () => {
    expect(failure(() => xml('<Response><Say>ok</Say><Pause length="soon"/></Response>'))).toMatchObject({ index: 1, action: 'pause', field: 'length' });
    expect(failure(() => xml('<Response><Dial record="maybe">+254720000001</Dial></Response>'))).toMatchObject({ field: 'record', message: 'actions[0].dial.record must be true or false' });
    expect(failure(() => xml('<Response><Speak>x</Speak></Response>')).message).toMatch(/unknown action 'Speak'; known actions: Say, Play, GetDigits/);
    expect(failure(() => xml('<Reply><Say>x</Say></Reply>')).message).toBe('the XML root element must be <Response>');
    expect(failure(() => xml('<Response><Say>x</Response>')).message).toMatch(/^the XML is not well-formed/);
  });

  it('an empty <Response/> is an empty list (the call hangs up)', () => {
    expect(xml('<Response/>')).toEqual([]);
    expect(xml('<Response></Response>')).toEqual([]);
  });
});

describe('parseActions on arbitrary input', () => {
  it('answers typed actions or an ActionValidationError, never another exception', async () => {
    const fc = (await import('fast-check')).default;
    const names = fc.constantFrom('say', 'play', 'dial', 'getDigits', 'conference', 'stream', 'pause', 'record', 'redirect', 'nope');
    const action = fc.dictionary(names, fc.oneof(fc.anything(), fc.dictionary(fc.string(), fc.anything())), { minKeys: 1, maxKeys: 1 });
    fc.assert(fc.property(fc.oneof(fc.anything(), fc.array(action)), (value) => {
      try {
        json(value);
        json({ actions: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ActionValidationError);
      }
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.string(), (text) => {
      try {
        xml(`<Response>${text}</Response>`);
        xml(text);
      } catch (error) {
        expect(error).toBeInstanceOf(ActionValidationError);
      }
    }), { numRuns: 500 });
  });
});

describe('parseActionsReporting: unknown fields are ignored but reported (SPEC §14)', () => {
  const report = (doc: Parameters<typeof parseActionsReporting>[0]) => parseActionsReporting(doc);

  it('a typo\'d numDigit in getDigits is reported with numDigits as the likely intent, and the action still parses', () => {
    const parsed = report({ format: 'json', value: { actions: [{ getDigits: { numDigit: 1, timeout: 5, action: 'https://yourapp.example.com/ivr/route',
      nested: [{ say: { text: 'Press 1.', lop: 2 } }] } }, { hangup: {} }] } });
    expect(parsed.actions.map((a) => a.kind)).toEqual(['getDigits', 'hangup']);
    expect(parsed.actions[0]).toMatchObject({ kind: 'getDigits', numDigits: undefined, timeoutSeconds: 5 });
    expect(parsed.unknownFields).toEqual([
      // Nested actions are reported first (they are parsed while their parent reads `nested`), with their own path.
      { path: 'actions[0].getDigits.nested[0]', index: 0, action: 'say', field: 'lop', suggestion: 'loop' },
      { path: 'actions[0]', index: 0, action: 'getDigits', field: 'numDigit', suggestion: 'numDigits' },
    ]);
  });

  it('fields every action reads, whether given or not, are never unknown; nothing at all is reported for a clean answer', () => {
    const parsed = report({ format: 'json', value: [
      { say: { text: 'Hi', voice: 'en-us', language: 'en-US', loop: 1 } },
      { dial: { number: '+254720000001', sip: 'sip:agent@pbx.example.com', callerId: '+254700000001', timeout: 20, action: 'https://a.example.com/d', record: true, timeLimit: 60, hangupOnStar: true } },
      { conference: { name: 'room', startOnEnter: false, endOnExit: true, beep: false, muted: false, maxParticipants: 5, waitUrl: 'https://a.example.com/w', record: true, statusEventsCallbackUrl: 'https://a.example.com/s', statusEvents: 'join leave', collectDigits: true, numDigits: 2, finishOnKey: '#', digitsCallbackUrl: 'https://a.example.com/k' } },
      { getDigits: { numDigits: 2, timeout: 3, finishOnKey: '#', action: 'https://a.example.com/g', method: 'GET', nested: [] } },
    ] });
    expect(parsed.unknownFields).toEqual([]);
  });

  it('XML: unknown attributes and child elements a Dial does not read (<Numbr>) are reported; <Number> and nested prompts are not', () => {
    const parsed = report({ format: 'xml', text: '<Response><GetDigits numDigit="1" action="https://a.example.com/g"><Say loop="2" voise="x">Hi</Say></GetDigits>'
      + '<Dial timeout="20"><Number>+254720000001</Number><Numbr>+254720000002</Numbr></Dial></Response>' });
    expect(parsed.actions.map((a) => a.kind)).toEqual(['getDigits', 'dial']);
    expect(parsed.unknownFields.map((u) => [u.path, u.action, u.field, u.suggestion])).toEqual([
      ['actions[0].nested[0]', 'say', 'voise', 'voice'],
      ['actions[0]', 'getDigits', 'numDigit', 'numDigits'],
      ['actions[1]', 'dial', '<Numbr>', undefined],
    ]);
  });

  it('a name far from every known field gets no suggestion', () => {
    expect(report({ format: 'json', value: [{ hangup: { reason: 'x' } }] }).unknownFields).toEqual([
      { path: 'actions[0]', index: 0, action: 'hangup', field: 'reason', suggestion: undefined },
    ]);
  });
});
