/**
 * A carrier's caller for interop tests: a call placed with the project's SIP
 * user agent whose media is a UDP socket of the test's own, sending a pure
 * tone as PCMU every 20 ms and keeping every packet it hears with its time,
 * so a test can tell which tones reached it, and when.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { SipSession, SipUserAgent } from '../../src/sip/index.js';
import { encodePcmu } from '../../src/media/codecs/g711.js';
import { toneShare } from './tone-pcap.js';

const FRAME = 160;

export class TonePhone {
  readonly heard: Array<{ at: number; packet: Buffer }> = [];
  #timer: NodeJS.Timeout | undefined;

  private constructor(readonly session: SipSession, private readonly rtp: Socket) {}

  /** Calls `target` (through whatever proxy its URI names) and, once answered, sends `hz` until `close()`. */
  static async call(ua: SipUserAgent, target: string, from: string, hz: number): Promise<TonePhone> {
    const rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', () => resolve()));
    const sdp = ['v=0', 'o=carrier 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${rtp.address().port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
    let session: SipSession;
    try {
      session = await ua.invite(target, { sdp, from }).wait();
    } catch (error) {
      rtp.close();
      throw error;
    }
    const phone = new TonePhone(session, rtp);
    rtp.on('message', (packet) => phone.heard.push({ at: Date.now(), packet }));
    const answer = session.remoteSdp ?? '';
    const host = /^c=IN IP4 (\S+)/m.exec(answer)?.[1];
    const port = Number(/^m=audio (\d+)/m.exec(answer)?.[1]);
    if (!host || !port) throw new Error(`no audio address in the answer:\n${answer}`);
    const pcm = new Int16Array(FRAME);
    let n = 0;
    phone.#timer = setInterval(() => {
      for (let i = 0; i < FRAME; i += 1) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * (n * FRAME + i)) / 8000));
      const packet = Buffer.alloc(12 + FRAME);
      packet[0] = 0x80;
      packet.writeUInt16BE(n & 0xffff, 2);
      packet.writeUInt32BE((n * FRAME) >>> 0, 4);
      packet.writeUInt32BE(0x1e2d3c4b + hz, 8);
      encodePcmu(pcm, packet, 12);
      rtp.send(packet, port, host);
      n += 1;
    }, 20);
    return phone;
  }

  /** Packets heard since `since` (ms since epoch) that carry `hz` (Goertzel share above one half). */
  toneCount(hz: number, since = 0, until = Number.POSITIVE_INFINITY): number {
    return this.heard.filter((h) => h.at >= since && h.at < until && h.packet.length > 12 && toneShare(h.packet, hz) > 0.5).length;
  }

  /** Stops sending and hangs up (a BYE, unless the platform ended the call already). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.session.bye().catch(() => undefined);
    this.rtp.close();
  }
}
