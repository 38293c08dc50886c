import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse, write, type MediaDescription } from 'sdp-transform';
import { decodePcma, decodePcmu, encodePcma, encodePcmu, mulawEncodeSample, alawEncodeSample } from '../../src/media/codecs/g711.js';
import { decodeL16, encodeL16 } from '../../src/media/codecs/l16.js';
import { resample } from '../../src/media/codecs/resample.js';
import { answerFor, fromSdpMedia, localOffer, negotiateAudio, toSdpMediaFields } from '../../src/media/codecs/negotiate.js';
import { sine, toneAmplitude } from './helpers.js';

describe('g711', () => {
  it('encodes silence to the standard idle codes', () => {
    expect(mulawEncodeSample(0)).toBe(0xff);
    expect(alawEncodeSample(0)).toBe(0xd5);
  });

  it('round-trips PCMU and PCMA within the quantization step of each segment', () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (s) => {
        const pcm = Int16Array.of(s);
        const bytes = new Uint8Array(1);
        const back = new Int16Array(1);
        for (const [enc, dec] of [[encodePcmu, decodePcmu], [encodePcma, decodePcma]] as const) {
          enc(pcm, bytes);
          dec(bytes, back);
          // G.711 keeps about 4 mantissa bits: error is under 1/16 of the magnitude plus a small floor.
          expect(Math.abs(back[0]! - s)).toBeLessThanOrEqual(Math.abs(s) / 16 + 140);
        }
      }),
    );
  });

  it('re-encoding a decoded code gives the same code (transcoding through PCM is stable)', () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const pcm = new Int16Array(256);
    const again = new Uint8Array(256);
    decodePcmu(bytes, pcm);
    encodePcmu(pcm, again);
    for (let i = 0; i < 256; i++) if (i !== 0x7f) expect(again[i]).toBe(i); // 0x7f and 0xff are both zero
    decodePcma(bytes, pcm);
    encodePcma(pcm, again);
    expect([...again]).toEqual([...bytes]);
  });
});

describe('l16', () => {
  it('round-trips in network byte order', () => {
    const pcm = Int16Array.of(0, 1, -1, 32767, -32768, 256);
    const bytes = new Uint8Array(12);
    encodeL16(pcm, bytes);
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
    const back = new Int16Array(6);
    decodeL16(bytes, back);
    expect([...back]).toEqual([...pcm]);
  });
});

describe('resample', () => {
  const rates = [8000, 16000, 22050, 24000, 48000];
  for (const from of rates) {
    for (const to of rates) {
      if (from === to) continue;
      it(`keeps a 1 kHz tone from ${from} to ${to} Hz`, () => {
        const out = resample(sine(1000, 200, 10000, from), from, to);
        expect(out.length).toBe(Math.floor((from * 0.2 * to) / from));
        const middle = out.subarray(Math.floor(out.length / 4), Math.floor((3 * out.length) / 4));
        expect(toneAmplitude(middle, 1000, to)).toBeGreaterThan(9000);
        expect(toneAmplitude(middle, 1000, to)).toBeLessThan(11000);
      });
    }
  }

  it('filters content above the target Nyquist instead of aliasing it', () => {
    // 6 kHz at 48 kHz would alias to 2 kHz at 8 kHz without the low-pass.
    const out = resample(sine(6000, 200, 10000, 48000), 48000, 8000);
    const middle = out.subarray(400, 1200);
    expect(toneAmplitude(middle, 2000)).toBeLessThan(300);
  });

  it('accepts float input in -1..1', () => {
    const f = Float32Array.from(sine(440, 100, 16384, 22050), (s) => s / 32768);
    const out = resample(f, 22050, 8000);
    expect(toneAmplitude(out.subarray(200, 600), 440)).toBeGreaterThan(14000);
  });
});

describe('negotiateAudio', () => {
  const media = (payloads: string, rtp: MediaDescription['rtp'], fmtp: MediaDescription['fmtp'] = []): MediaDescription => ({
    type: 'audio',
    port: 4000,
    protocol: 'RTP/AVP',
    payloads,
    rtp,
    fmtp,
  });

  it('picks the first offered codec we support and the telephone-event format', () => {
    const offer = fromSdpMedia(
      media('18 8 0 101', [
        { payload: 18, codec: 'G729', rate: 8000 },
        { payload: 8, codec: 'PCMA', rate: 8000 },
        { payload: 0, codec: 'PCMU', rate: 8000 },
        { payload: 101, codec: 'telephone-event', rate: 8000 },
      ], [{ payload: 101, config: '0-16' }]),
    );
    const result = negotiateAudio(offer);
    expect(result?.codec.name).toBe('PCMA');
    expect(result?.payloadType).toBe(8);
    expect(result?.telephoneEvent).toEqual({ payloadType: 101, fmtp: '0-16' });
    expect(toSdpMediaFields(answerFor(result!))).toEqual({
      payloads: '8 101',
      rtp: [
        { payload: 8, codec: 'PCMA', rate: 8000 },
        { payload: 101, codec: 'telephone-event', rate: 8000 },
      ],
      fmtp: [{ payload: 101, config: '0-16' }],
      ptime: 20,
    });
  });

  it('understands static payload types offered without rtpmap', () => {
    const result = negotiateAudio(fromSdpMedia(media('0', [])));
    expect(result?.codec.name).toBe('PCMU');
    expect(result?.telephoneEvent).toBeUndefined();
  });

  it('uses our order when asked', () => {
    const offer = fromSdpMedia(media('8 0', []));
    expect(negotiateAudio(offer, { preference: 'local' })?.codec.name).toBe('PCMU');
    expect(negotiateAudio(offer)?.codec.name).toBe('PCMA');
  });

  it('returns undefined when nothing is acceptable (answer 488)', () => {
    expect(negotiateAudio(fromSdpMedia(media('9 18', [{ payload: 9, codec: 'G722', rate: 8000 }, { payload: 18, codec: 'G729', rate: 8000 }])))).toBeUndefined();
    expect(negotiateAudio({ payloads: [{ payloadType: 0, encoding: 'PCMU', clockRate: 8000 }] }, { codecs: ['PCMA'] })).toBeUndefined();
  });

  it('negotiates from SDP text parsed by sdp-transform', () => {
    const sdp = [
      'v=0', 'o=- 1 1 IN IP4 203.0.113.5', 's=-', 'c=IN IP4 203.0.113.5', 't=0 0',
      'm=audio 40000 RTP/AVP 0 8 96', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:96 telephone-event/8000', 'a=fmtp:96 0-15', 'a=ptime:20', 'a=sendrecv', '',
    ].join('\r\n');
    const media = parse(sdp).media[0]!;
    const result = negotiateAudio(fromSdpMedia(media));
    expect(result).toMatchObject({ payloadType: 0, telephoneEvent: { payloadType: 96, fmtp: '0-15' } });
    const answer = write({ ...parse(sdp), media: [{ ...media, ...toSdpMediaFields(answerFor(result!)) }] });
    expect(answer).toContain('m=audio 40000 RTP/AVP 0 96');
    expect(answer).toContain('a=fmtp:96 0-15');
  });

  it('offers PCMU, PCMA and telephone-event by default', () => {
    expect(toSdpMediaFields(localOffer()).payloads).toBe('0 8 101');
  });
});
