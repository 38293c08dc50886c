import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLeg, SrtpRefusedError } from '../../src/legs/call-leg.js';
import { MediaEngine } from '../../src/media/engine.js';
import { silentLogger } from '../../src/shared/log.js';
import { SipUserAgent } from '../../src/sip/ua/sip-user-agent.js';

describe('callLeg.dial() with SRTP', () => {
  let ua: SipUserAgent;
  let media: MediaEngine;
  beforeAll(async () => {
    ua = new SipUserAgent({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    await ua.start();
    media = new MediaEngine({ portMin: 31950, portMax: 31959, bindAddress: '127.0.0.1', rtpTimeoutMs: 0 });
  });
  afterAll(async () => {
    await ua.close();
    await media.close();
  });

  it('refuses a mandatory-SRTP target reached over UDP before it allocates anything: the keys would travel in clear', async () => {
    await expect(CallLeg.dial(ua, media, { uri: 'sip:+254712000001@127.0.0.1:9', from: 'sip:+254700000001@127.0.0.1', srtp: 'mandatory', label: 'carrier' }, silentLogger))
      .rejects.toBeInstanceOf(SrtpRefusedError);
    expect(ua.keysMayTravelTo('sip:a@127.0.0.1:9')).toBe(false);
    expect(ua.keysMayTravelTo('sip:a@127.0.0.1:9;transport=tls')).toBe(true);
    expect(ua.keysMayTravelTo('sips:a@127.0.0.1')).toBe(true);
    expect(ua.keysMayTravelTo('sip:a@127.0.0.1', 'sip:proxy.example.com;transport=tls')).toBe(true);
  });
});
