/**
 * The SRTP transform (src/media/rtp/srtp-context.ts) per packet, beside the
 * ways node:crypto offers to do the same job:
 *
 * - protect and unprotect one 20 ms PCMU packet (172 bytes of RTP) with
 *   AES_CM_128_HMAC_SHA1_80 as the media path does: one reused AES-128-ECB
 *   cipher turning counter blocks written into a preallocated buffer into
 *   keystream (`cipher.update`), HMAC-SHA1 by `HmacSha1` (no allocation);
 * - the same protect with a new `createCipheriv('aes-128-ctr')` per packet
 *   (what most Node SRTP code does);
 * - the HMAC-SHA1 alone, by node's `createHmac` and by `HmacSha1`, and
 *   copying the packet (the floor).
 *
 * From the per-packet figures, the CPU SRTP adds to 100 bridged calls whose
 * four directions are all SRTP (200 legs, each protecting and unprotecting
 * 50 packets a second) is derived, as a share of one core.
 *
 * Run: `npx vitest bench --run --config vitest.bench.config.ts bench/srtp.bench.ts`
 * (about 10 s). Env: SRTP_BENCH_RUNS (default 5), SRTP_BENCH_PACKETS (per
 * run, default 20000). Medians of the runs. Writes the `srtp` block of bench/README.md.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { bench, describe } from 'vitest';
import { HmacSha1 } from '../src/media/rtp/hmac-sha1.js';
import { SrtpContext } from '../src/media/rtp/srtp-context.js';
import { deriveSessionKeys } from '../src/media/rtp/srtp-keys.js';
import { markdownTable, median, writeReadmeSection } from './lib/readme-section.js';

const RUNS = Number(process.env.SRTP_BENCH_RUNS ?? 5);
const PACKETS = Number(process.env.SRTP_BENCH_PACKETS ?? 20_000);
const RTP_LENGTH = 172;

function rtpPacket(seq: number): Buffer {
  const buf = Buffer.alloc(RTP_LENGTH + 16);
  buf[0] = 0x80;
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE(seq * 160, 4);
  buf.writeUInt32BE(0x1234abcd, 8);
  buf.fill(0x55, 12, RTP_LENGTH);
  return buf;
}

/** µs per call of `fn` over PACKETS calls, after as many to warm up. */
function perPacket(fn: (i: number) => void): number {
  for (let i = 0; i < PACKETS; i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < PACKETS; i++) fn(i + PACKETS);
  return Number(process.hrtime.bigint() - start) / 1000 / PACKETS;
}

describe('SRTP', () => {
  bench(`protect/unprotect of a 172-byte RTP packet, ${RUNS} runs of ${PACKETS}`, () => {
    const master = randomBytes(30);
    const keys = deriveSessionKeys(master).rtp;
    const figures: Record<string, number[]> = { protect: [], unprotect: [], ctrPerPacket: [], hmac: [], jsHmac: [], copy: [] };
    const jsHmac = new HmacSha1(keys.authentication);
    for (let run = 0; run < RUNS; run++) {
      const tx = new SrtpContext(master);
      const rx = new SrtpContext(master);
      const packet = rtpPacket(1);
      const wire = Buffer.alloc(RTP_LENGTH + 16);
      // Protect into a copy, so every packet is fresh plaintext; the copy is timed apart below.
      figures.protect!.push(perPacket((i) => {
        packet.copy(wire);
        wire.writeUInt16BE(i & 0xffff, 2);
        tx.protectRtp(wire, RTP_LENGTH);
      }));
      // Unprotect needs packets protected in order: make them first, then time only the unprotect.
      const protectedPackets = Array.from({ length: 2 * PACKETS }, (_, i) => rtpPacket(i));
      const sender = new SrtpContext(master);
      for (const b of protectedPackets) sender.protectRtp(b, RTP_LENGTH);
      figures.unprotect!.push(perPacket((i) => {
        if (rx.unprotectRtp(protectedPackets[i]!, RTP_LENGTH + 10) < 0) throw new Error('unprotect failed');
      }));
      const iv = Buffer.alloc(16);
      figures.ctrPerPacket!.push(perPacket((i) => {
        packet.copy(wire);
        iv.writeUInt32BE(i, 12);
        const ctr = createCipheriv('aes-128-ctr', keys.encryption, iv);
        const encrypted = ctr.update(wire.subarray(12, RTP_LENGTH));
        encrypted.copy(wire, 12);
        const tag = createHmac('sha1', keys.authentication).update(wire.subarray(0, RTP_LENGTH)).update(iv.subarray(0, 4)).digest();
        tag.copy(wire, RTP_LENGTH, 0, 10);
      }));
      figures.hmac!.push(perPacket(() => {
        createHmac('sha1', keys.authentication).update(wire.subarray(0, RTP_LENGTH)).update(iv.subarray(0, 4)).digest();
      }));
      figures.jsHmac!.push(perPacket((i) => {
        jsHmac.mac(wire, RTP_LENGTH, i);
      }));
      figures.copy!.push(perPacket((i) => {
        packet.copy(wire);
        wire.writeUInt16BE(i & 0xffff, 2);
      }));
    }
    const m = (k: string): number => median(figures[k]!);
    const spread = (k: string): string => `${m(k).toFixed(2)} (${Math.min(...figures[k]!).toFixed(2)}–${Math.max(...figures[k]!).toFixed(2)})`;
    // 100 bridged calls, all four directions SRTP: 200 legs × 50 packets/s protected and as many unprotected.
    const packetsPerSecond = 200 * 50;
    const share = (us: number): string => `${((us * packetsPerSecond) / 1e6 * 100).toFixed(1)} %`;
    const rows = [
      ['protect (ECB keystream from a reused cipher + HmacSha1), µs', spread('protect')],
      ['unprotect (tag check, replay window, decrypt), µs', spread('unprotect')],
      ['protect with a new createCipheriv(aes-128-ctr) per packet + createHmac, µs', spread('ctrPerPacket')],
      ['HMAC-SHA1 alone, node:crypto createHmac … digest (a new object per packet), µs', spread('hmac')],
      ['HMAC-SHA1 alone, HmacSha1 (pad states precomputed, no allocation; what protect/unprotect use), µs', spread('jsHmac')],
      ['copy the packet (reference floor), µs', spread('copy')],
      ['derived: SRTP CPU for 100 bridged calls all SRTP (10,000 protect + 10,000 unprotect a second), share of one core', share(m('protect') + m('unprotect'))],
    ];
    writeReadmeSection('srtp', [
      `In-process under vitest (TypeScript through vite-node), median (min–max) of ${RUNS} runs of ${PACKETS} packets after as many to warm up; the protect figures include copying the plaintext in (the last row's cost).`,
      '',
      markdownTable(['measured, per 172-byte RTP packet (PCMU, 20 ms)', 'median (min–max)'], rows),
    ].join('\n'), { heading: 'SRTP (SDES, AES_CM_128_HMAC_SHA1_80)' });
  }, { iterations: 1, warmupIterations: 0 });
});
