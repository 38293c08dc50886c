import { describe, expect, it } from 'vitest';
import { codecList, describeSdp, isWebRtcSdp, isWebSocketTarget, localDirectionFor, negotiateOffer, readAnswer, type SrtpTerms } from '../../src/legs/sdp-glue.js';

const sdp = (m: string, extra: string[] = []) => ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', m, ...extra, ''].join('\r\n');

describe('sdpGlue', () => {
  it('reads an answer with one static payload type and no rtpmap (as SIPp\'s uas sends)', () => {
    expect(readAnswer(sdp('m=audio 6000 RTP/AVP 0'), codecList())).toEqual({ address: '127.0.0.1', port: 6000, payloadType: 0, codec: 'PCMU', telephoneEvent: null });
  });

  it('negotiates PCMA and telephone-event from an offer and answers with just those', () => {
    const result = negotiateOffer(sdp('m=audio 7000 RTP/AVP 8 101', ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']), codecList());
    expect(result).toMatchObject({ remote: { port: 7000, payloadType: 8, codec: 'PCMA', telephoneEvent: 101 } });
    if ('problem' in result) throw new Error('unreachable');
    const answer = describeSdp({ address: '127.0.0.1', port: 30000, rtcpPort: 30001, audio: result.answer }, result.answer, 1);
    expect(answer).toMatch(/m=audio 30000 RTP\/AVP 8 101/);
    expect(answer).toMatch(/a=rtpmap:101 telephone-event\/8000/);
  });

  it('names what is wrong with an unusable offer', () => {
    expect(negotiateOffer('garbage', codecList())).toEqual({ problem: 'unparsable' });
    expect(negotiateOffer(sdp('m=audio 7000 RTP/AVP 9', ['a=rtpmap:9 G722/8000']), codecList())).toEqual({ problem: 'no_common_codec' });
    expect(negotiateOffer(sdp('m=video 7000 RTP/AVP 96'), codecList())).toEqual({ problem: 'no_audio' });
  });

  it('mirrors the peer\'s direction for our side, counting c=0.0.0.0 as a hold (RFC 3264 §6.1, §8.4)', () => {
    expect(localDirectionFor(sdp('m=audio 7000 RTP/AVP 0'))).toBe('sendrecv');
    expect(localDirectionFor(sdp('m=audio 7000 RTP/AVP 0', ['a=sendonly']))).toBe('recvonly');
    expect(localDirectionFor(sdp('m=audio 7000 RTP/AVP 0', ['a=inactive']))).toBe('inactive');
    expect(localDirectionFor(sdp('m=audio 7000 RTP/AVP 0', ['a=recvonly']))).toBe('sendonly');
    const oldHold = sdp('m=audio 7000 RTP/AVP 0').replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0');
    expect(localDirectionFor(oldHold)).toBe('recvonly');
    expect(localDirectionFor(`${oldHold}a=recvonly\r\n`)).toBe('inactive');
    expect(localDirectionFor('garbage')).toBeUndefined();
  });
});

describe('sdpGlue with SDES (RFC 4568, SPEC §13)', () => {
  const key = Buffer.alloc(30, 3).toString('base64');
  const savp = (...crypto: string[]) => sdp('m=audio 7000 RTP/SAVP 0', crypto);
  const tls = { keysMayTravel: true };

  it('answers an RTP/SAVP offer with the tag of the first line it can use', () => {
    const result = negotiateOffer(savp(`a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${Buffer.alloc(46).toString('base64')}`, `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${key}|2^31`), codecList(), tls);
    expect(result).toMatchObject({ srtp: { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_80', key, protocol: 'RTP/SAVP' } });
    if ('problem' in result) throw new Error('unreachable');
    const answer = describeSdp({ address: '127.0.0.1', port: 30000, rtcpPort: 30001, audio: result.answer }, result.answer, 1, 'sendrecv', 1,
      { protocol: 'RTP/SAVP', crypto: { id: 2, suite: 'AES_CM_128_HMAC_SHA1_80', config: 'inline:OURKEY' } });
    expect(answer).toMatch(/m=audio 30000 RTP\/SAVP 0/);
    expect(answer).toMatch(/a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:OURKEY/);
  });

  it('refuses what it cannot meet, never falling back to plain RTP', () => {
    const refused = (offer: string, terms: SrtpTerms = tls) => negotiateOffer(offer, codecList(), terms);
    expect(refused(savp(`a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${key}`))).toMatchObject({ problem: 'srtp_not_acceptable', detail: expect.stringMatching(/AES_256_CM_HMAC_SHA1_80/) });
    expect(refused(savp(`a=crypto:1 F8_128_HMAC_SHA1_80 inline:${key}`))).toMatchObject({ problem: 'srtp_not_acceptable' });
    expect(refused(savp(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}|2^20|1:4`))).toMatchObject({ problem: 'srtp_not_acceptable' });
    expect(refused(savp(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}|1:4`))).toMatchObject({ detail: 'MKI is not supported' });
    expect(refused(savp(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}|2^10`))).toMatchObject({ detail: expect.stringMatching(/lifetime/) });
    expect(refused(savp(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key} UNENCRYPTED_SRTP`))).toMatchObject({ detail: expect.stringMatching(/UNENCRYPTED_SRTP/) });
    expect(refused(savp('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ='))).toMatchObject({ problem: 'srtp_not_acceptable' });
    expect(refused(savp())).toMatchObject({ problem: 'srtp_not_acceptable' });
    expect(refused(savp(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`), { keysMayTravel: false })).toMatchObject({ problem: 'srtp_keys_over_insecure_transport' });
    expect(refused(sdp('m=audio 7000 UDP/TLS/RTP/SAVPF 0', ['a=fingerprint:sha-256 AB:CD']))).toMatchObject({ problem: 'unsupported_profile' });
    expect(refused(sdp('m=audio 7000 RTP/SAVPF 0', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`]))).toMatchObject({ problem: 'unsupported_profile' });
    expect(refused(sdp('m=audio 7000 RTP/AVP 0'), { keysMayTravel: true, required: true })).toMatchObject({ problem: 'srtp_required' });
  });

  it('takes keys offered in RTP/AVP (best effort) over TLS, ignores them otherwise', () => {
    const offer = sdp('m=audio 7000 RTP/AVP 0', [`a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:${key}`]);
    expect(negotiateOffer(offer, codecList(), tls)).toMatchObject({ srtp: { tag: 5, protocol: 'RTP/AVP' } });
    expect(negotiateOffer(offer, codecList(), { keysMayTravel: false })).not.toHaveProperty('srtp');
  });

  it('reads the key of the offered tag from an answer, and refuses a plain answer to a mandatory offer', () => {
    expect(readAnswer(savp(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`), codecList(), { offeredTag: 1, required: true })).toMatchObject({ srtpKey: key, port: 7000 });
    expect(readAnswer(sdp('m=audio 7000 RTP/AVP 0'), codecList(), { offeredTag: 1, required: true })).toMatchObject({ problem: 'srtp_required' });
    expect(readAnswer(sdp('m=audio 7000 RTP/AVP 0'), codecList(), { offeredTag: 1, required: false })).not.toHaveProperty('srtpKey');
  });
});

describe('isWebRtcSdp / isWebSocketTarget: which legs go through the WebRTC gateway (SPEC §15)', () => {
  const webrtc = [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef012345',
    'a=fingerprint:sha-256 41:71:FA:69:C1:C4:07:7F:F0:7C:72:D1:23:6B:97:9F:5B:74:9A:15:16:CC:17:9F:E6:1D:25:5E:B1:4B:DF:9F',
    'a=setup:actpass', 'a=mid:0', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000', '',
  ].join('\r\n');

  it('a DTLS-SRTP offer (SAVPF with a fingerprint) is WebRTC; plain RTP and SDES-SRTP are not', () => {
    expect(isWebRtcSdp(webrtc)).toBe(true);
    expect(isWebRtcSdp(webrtc.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP').replace(/a=fingerprint.*\r\n/, ''))).toBe(false);
    const sdes = webrtc.replace('UDP/TLS/RTP/SAVPF', 'RTP/SAVP').replace(/a=fingerprint.*\r\n/, 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n');
    expect(isWebRtcSdp(sdes)).toBe(false);
    expect(isWebRtcSdp('not sdp')).toBe(false);
  });

  it('a binding with ;transport=ws or wss is a browser', () => {
    expect(isWebSocketTarget('sip:abc@127.0.0.1:8080;transport=ws')).toBe(true);
    expect(isWebSocketTarget('sip:abc@127.0.0.1:8080;transport=WSS;ob')).toBe(true);
    expect(isWebSocketTarget('sip:abc@127.0.0.1:5060;transport=tcp')).toBe(false);
    expect(isWebSocketTarget('sip:abc@127.0.0.1;transport=wsx')).toBe(false);
  });
});
