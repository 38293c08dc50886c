/**
 * A pcap of RTP carrying a pure tone, for SIPp's `play_pcap_audio` (which
 * reads Ethernet/IPv4/UDP captures and replays their RTP with its timing),
 * and the Goertzel measure a test uses to recognise that tone in what it hears.
 */
import { writeFileSync } from 'node:fs';
import { decodePcmu, encodePcma } from '../../src/media/codecs/g711.js';

const FRAME = 160;

/** Writes `seconds` of a `hz` sine as PCMA (payload type 8) RTP, 20 ms a packet. */
export function writeTonePcap(file: string, hz: number, seconds: number): void {
  const packets: Buffer[] = [];
  const pcm = new Int16Array(FRAME);
  const payload = new Uint8Array(FRAME);
  const count = Math.round((seconds * 1000) / 20);
  for (let n = 0; n < count; n += 1) {
    for (let i = 0; i < FRAME; i += 1) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * (n * FRAME + i)) / 8000));
    encodePcma(pcm, payload);
    const rtp = Buffer.alloc(12 + FRAME);
    rtp[0] = 0x80;
    rtp[1] = 8;
    rtp.writeUInt16BE(n & 0xffff, 2);
    rtp.writeUInt32BE(n * FRAME, 4);
    rtp.writeUInt32BE(0x5a0e1f2d, 8);
    rtp.set(payload, 12);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(4000, 0);
    udp.writeUInt16BE(4002, 2);
    udp.writeUInt16BE(8 + rtp.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + rtp.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    const ether = Buffer.alloc(14);
    ether.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([ether, ip, udp, rtp]);
    const record = Buffer.alloc(16);
    const usec = n * 20_000;
    record.writeUInt32LE(Math.floor(usec / 1e6), 0);
    record.writeUInt32LE(usec % 1e6, 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    packets.push(record, frame);
  }
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  writeFileSync(file, Buffer.concat([header, ...packets]));
}

/** Share of a PCMU packet's energy at `hz` (Goertzel): near 1 for that pure tone, near 0 for other sounds or silence. */
export function toneShare(rtpPacket: Buffer, hz: number): number {
  const payload = rtpPacket.subarray(12);
  const pcm = new Int16Array(payload.length);
  decodePcmu(payload, pcm);
  return pcmToneShare(pcm, hz);
}

/** The same for 8 kHz PCM (a 20 ms frame a leg heard). */
export function pcmToneShare(pcm: Int16Array, hz: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let s1 = 0;
  let s2 = 0;
  let total = 0;
  for (const sample of pcm) {
    const s0 = sample + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += sample * sample;
  }
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return total === 0 ? 0 : (2 * power) / (pcm.length * total);
}
