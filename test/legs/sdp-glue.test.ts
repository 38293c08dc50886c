import { describe, expect, it } from 'vitest';
import { codecList, describeSdp, isWebRtcSdp, isWebSocketTarget, localDirectionFor, negotiateOffer, readAnswer } from '../../src/legs/sdp-glue.js';

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
