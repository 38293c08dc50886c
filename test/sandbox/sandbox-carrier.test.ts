import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLeg } from '../../src/legs/call-leg.js';
import { userOf } from '../../src/legs/uri-user.js';
import { MediaEngine } from '../../src/media/engine.js';
import { tone } from '../../src/media/sources/tones.js';
import { SandboxCarrier } from '../../src/sandbox/sandbox-carrier.js';
import { silentLogger } from '../../src/shared/log.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';

/**
 * The sandbox carrier against a second SIP user agent standing in for the
 * platform: real SIP over UDP and real RTP both ways.
 */
describe('sandboxCarrier', () => {
  let media: MediaEngine;
  let platform: SipUserAgent;
  let carrier: SandboxCarrier;
  const platformLegs: CallLeg[] = [];

  beforeAll(async () => {
    media = new MediaEngine({ portMin: 41000, portMax: 41999, logger: silentLogger });
    platform = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1', timers: { t1: 50 } });
    await platform.start();
    carrier = new SandboxCarrier({ media, platform: platform.localAddress('udp'), logger: silentLogger });
    await carrier.start();
    // The stand-in platform answers, beeps, sends "42#" and hangs up.
    platform.on('invite', (incoming) => void (async () => {
      const leg = await CallLeg.fromIncoming(incoming, media, silentLogger);
      if ('problem' in leg) return;
      platformLegs.push(leg);
      if (userOf(incoming.request.uri) === '+254700000099') return leg.reject('busy');
      leg.ring();
      leg.answer();
      await leg.media.play(tone('beep'));
      await leg.media.sendDtmf('42#');
      await new Promise((r) => setTimeout(r, 300));
      await leg.hangup();
    })());
  });
  afterAll(async () => {
    await carrier.close();
    await platform.close();
    await media.close();
  });

  it('placeCall() reports the audio, beep and digits the phone heard, and who hung up', async () => {
    const call = carrier.placeCall({ from: '+254711000001', to: '+254700000001', script: [] });
    await call.whenEnded();
    expect(call.report).toMatchObject({ status: 'completed', hangup_by: 'platform', digits_heard: '42#', beeps_heard: 1 });
    expect(call.report.audio_seconds_heard).toBeGreaterThanOrEqual(0.3);
    expect(call.report.duration_seconds).toBeGreaterThanOrEqual(1);
  });

  it('a busy answer is reported with its SIP status', async () => {
    const call = carrier.placeCall({ from: '+254711000001', to: '+254700000099', script: [] });
    await call.whenEnded();
    expect(call.report).toMatchObject({ status: 'busy', sip_status: 486, hangup_by: 'platform', duration_seconds: null });
  });

  it('a dialled sandbox phone behaves as set: busy, or answer after N s and hang up', async () => {
    const self = carrier.address;
    carrier.setPhone('+254720000009', { answer: 'busy', script: [], hangupAfterSeconds: undefined });
    const busy = await CallLeg.dial(platform, media, { uri: `sip:+254720000009@${self.host}:${self.port}`, from: 'sip:+254700000001@127.0.0.1' }, silentLogger);
    const busyEnd = await new Promise((resolve) => busy.once('ended', resolve));
    expect(busyEnd).toMatchObject({ by: 'remote', cause: 'busy', sipStatus: 486 });

    carrier.setPhone('+254720000002', { answer: { after: 0.2 }, script: [{ press: '7' }], hangupAfterSeconds: 1 });
    const leg = await CallLeg.dial(platform, media, { uri: `sip:+254720000002@${self.host}:${self.port}`, from: 'sip:+254700000001@127.0.0.1' }, silentLogger);
    const digits: string[] = [];
    leg.on('dtmf', (d) => digits.push(d));
    let answeredAt = 0;
    leg.once('answered', () => { answeredAt = performance.now(); });
    const end = await new Promise((resolve) => leg.once('ended', resolve));
    expect(end).toMatchObject({ by: 'remote', cause: 'normal_clearing' });
    expect(answeredAt).toBeGreaterThan(0);
    expect(digits.join('')).toBe('7');
    expect(carrier.callsOf('+254720000002')).toHaveLength(1);
    await carrier.call(carrier.callsOf('+254720000002')[0]!.id)!.whenEnded();
    const seen = carrier.callsOf('+254720000002');
    expect(seen[0]).toMatchObject({ direction: 'from-platform', status: 'completed', hangup_by: 'phone' });
  });
});
