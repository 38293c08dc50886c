/**
 * SIP parser and serializer throughput, as plain timing loops. Shared by
 * `bench/sip-parser.bench.ts` (vitest) and a plain-Node run on compiled
 * output (see bench/sip.md): under vitest, imports go through vite's module
 * runner, which adds a property read per imported binding, so both figures
 * are worth having.
 *
 * This file imports nothing from vitest on purpose, so it also runs under
 * plain Node once compiled.
 */
import { performance } from 'node:perf_hooks';
import { parseDatagram, serializeMessage, type SipMessage } from '../src/sip/index.js';

const crlf = (lines: string[]): string => lines.join('\r\n');

const SDP_OFFER = crlf([
  'v=0',
  'o=- 3894719346 3894719346 IN IP4 198.51.100.7',
  's=-',
  'c=IN IP4 198.51.100.7',
  't=0 0',
  'm=audio 31844 RTP/AVP 0 8 18 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
]);

const SDP_ANSWER = crlf([
  'v=0',
  'o=- 1700000001 1700000001 IN IP4 203.0.113.10',
  's=Sautikit',
  'c=IN IP4 203.0.113.10',
  't=0 0',
  'm=audio 20000 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
]);

/** What a carrier's SBC sends: two Vias, Record-Route, P-Asserted-Identity, a 4-codec offer. */
const INVITE = crlf([
  'INVITE sip:+254711000000@203.0.113.10:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-524287-1---8f2c1a7e4b;rport',
  'Via: SIP/2.0/UDP 10.0.0.12:5060;received=10.0.0.12;branch=z9hG4bK3e8a91b0c2;rport=5060',
  'Record-Route: <sip:198.51.100.7;lr;ftag=as5e3c1d9f>',
  'Max-Forwards: 69',
  'From: "Wanjiru Kamau" <sip:+254722555123@198.51.100.7>;tag=as5e3c1d9f',
  'To: <sip:+254711000000@203.0.113.10>',
  'Call-ID: 5f1c0b7a2e9d4c8b9a7f3e21d0c6b845@198.51.100.7',
  'CSeq: 102 INVITE',
  'Contact: <sip:+254722555123@198.51.100.7:5060;transport=udp>',
  'P-Asserted-Identity: "Wanjiru Kamau" <sip:+254722555123@198.51.100.7>',
  'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO, UPDATE',
  'Supported: replaces, timer',
  'User-Agent: CarrierSBC 4.2',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP_OFFER)}`,
  '',
  SDP_OFFER,
]);

const OK = crlf([
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-524287-1---8f2c1a7e4b;rport=5060;received=198.51.100.7',
  'Via: SIP/2.0/UDP 10.0.0.12:5060;received=10.0.0.12;branch=z9hG4bK3e8a91b0c2;rport=5060',
  'Record-Route: <sip:198.51.100.7;lr;ftag=as5e3c1d9f>',
  'From: "Wanjiru Kamau" <sip:+254722555123@198.51.100.7>;tag=as5e3c1d9f',
  'To: <sip:+254711000000@203.0.113.10>;tag=8c4e2f1a90b7',
  'Call-ID: 5f1c0b7a2e9d4c8b9a7f3e21d0c6b845@198.51.100.7',
  'CSeq: 102 INVITE',
  'Contact: <sip:sautikit@203.0.113.10:5060>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER',
  'Supported: replaces',
  'User-Agent: Sautikit',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP_ANSWER)}`,
  '',
  SDP_ANSWER,
]);

/** A phone re-registering with digest credentials. */
const REGISTER = crlf([
  'REGISTER sip:sip.example.co.ke SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.34:5062;branch=z9hG4bK1491280923;rport',
  'Max-Forwards: 70',
  'From: <sip:alice@sip.example.co.ke>;tag=1806217590',
  'To: <sip:alice@sip.example.co.ke>',
  'Call-ID: 1193857447-5062-1@BJC.BGI.B.DE',
  'CSeq: 21 REGISTER',
  'Contact: <sip:alice@192.168.1.34:5062;line=a7f3e2c1>;expires=3600',
  'Authorization: Digest username="alice", realm="sip.example.co.ke", nonce="MTcwMDAwMDAwMDpmNWU0Y2Y3ZGQ0YjM", uri="sip:sip.example.co.ke", response="2e4d6b8f0a1c3e5d7f9b1a3c5e7d9f1b", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000002',
  'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE',
  'User-Agent: Yealink SIP-T46U 108.86.0.20',
  'Expires: 3600',
  'Allow-Events: talk, hold, conference, refer, check-sync',
  'Content-Length: 0',
  '',
  '',
]);

const BYE = crlf([
  'BYE sip:sautikit@203.0.113.10:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-524287-1---2b7d9e0f1c;rport',
  'Max-Forwards: 70',
  'Route: <sip:198.51.100.7;lr;ftag=as5e3c1d9f>',
  'From: "Wanjiru Kamau" <sip:+254722555123@198.51.100.7>;tag=as5e3c1d9f',
  'To: <sip:+254711000000@203.0.113.10>;tag=8c4e2f1a90b7',
  'Call-ID: 5f1c0b7a2e9d4c8b9a7f3e21d0c6b845@198.51.100.7',
  'CSeq: 103 BYE',
  'User-Agent: CarrierSBC 4.2',
  'Content-Length: 0',
  '',
  '',
]);

export const MESSAGES: ReadonlyArray<{ name: string; bytes: Buffer }> = [
  { name: 'INVITE with SDP', bytes: Buffer.from(INVITE) },
  { name: '200 OK with SDP', bytes: Buffer.from(OK) },
  { name: 'REGISTER with digest', bytes: Buffer.from(REGISTER) },
  { name: 'BYE', bytes: Buffer.from(BYE) },
];

/**
 * The floor any SIP parser pays: UTF-8 decode, split the head into lines,
 * split each at the colon, slice the body. No validation, no typed values.
 * It is the reference beside the parser's figure.
 */
export function naiveParse(buf: Buffer): { start: string; headers: Map<string, string[]>; body: Buffer } {
  const end = buf.indexOf('\r\n\r\n');
  const lines = buf.toString('utf8', 0, end).split('\r\n');
  const headers = new Map<string, string[]>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const list = headers.get(name);
    if (list) list.push(line.slice(colon + 1).trim());
    else headers.set(name, [line.slice(colon + 1).trim()]);
  }
  return { start: lines[0]!, headers, body: buf.subarray(end + 4) };
}

/** The floor for the serializer: join the raw lines and encode once. */
function naiveSerialize(parsed: { start: string; headers: Map<string, string[]>; body: Buffer }): Buffer {
  let head = `${parsed.start}\r\n`;
  for (const [name, values] of parsed.headers) for (const value of values) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`), parsed.body]);
}

export interface Throughput {
  message: string;
  bytes: number;
  /** Median of the runs, messages per second. */
  median: number;
  min: number;
  max: number;
}

// Written by every loop so the work cannot be optimised away.
let sink = 0;

/**
 * Runs `fn` in `runs` timed batches after a warm-up; the batch size is
 * calibrated so that one batch takes about `batchMs`.
 */
function measure(fn: () => number, runs: number, batchMs: number): { median: number; min: number; max: number } {
  let n = 1;
  // Warm-up and calibration: grow the batch until it takes at least batchMs / 4.
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink += fn();
    const ms = performance.now() - t0;
    if (ms >= batchMs / 4) {
      n = Math.max(1, Math.round((n * batchMs) / ms));
      break;
    }
    n *= 2;
  }
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink += fn();
    rates.push((n * 1000) / (performance.now() - t0));
  }
  rates.sort((a, b) => a - b);
  return { median: rates[Math.floor(rates.length / 2)]!, min: rates[0]!, max: rates[rates.length - 1]! };
}

export interface ParserResults {
  parse: Throughput[];
  parseFloor: Throughput[];
  serialize: Throughput[];
  serializeFloor: Throughput[];
}

export function runParserBench(options: { runs?: number; batchMs?: number } = {}): ParserResults {
  // 5 batches of 120 ms per figure: 16 figures in about 12 s, within npm run bench's budget.
  const runs = options.runs ?? Number(process.env.SIP_PARSER_RUNS ?? 5);
  const batchMs = options.batchMs ?? Number(process.env.SIP_PARSER_BATCH_MS ?? 120);
  const results: ParserResults = { parse: [], parseFloor: [], serialize: [], serializeFloor: [] };
  for (const { name, bytes } of MESSAGES) {
    const row = (m: { median: number; min: number; max: number }): Throughput => ({ message: name, bytes: bytes.length, ...m });
    results.parse.push(row(measure(() => parseDatagram(bytes).headers.entries().length, runs, batchMs)));
    results.parseFloor.push(row(measure(() => naiveParse(bytes).headers.size, runs, batchMs)));
    const parsed: SipMessage = parseDatagram(bytes);
    results.serialize.push(row(measure(() => serializeMessage(parsed).length, runs, batchMs)));
    const naive = naiveParse(bytes);
    results.serializeFloor.push(row(measure(() => naiveSerialize(naive).length, runs, batchMs)));
  }
  if (sink === -1) console.log(sink);
  return results;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A markdown table: one row per message, the floor beside each figure. */
export function formatParserResults(results: ParserResults): string {
  const lines = [
    '| message | bytes | parse (msg/s, median [min–max]) | floor: split only (msg/s) | serialize (msg/s, median [min–max]) | floor: join only (msg/s) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  results.parse.forEach((p, i) => {
    const pf = results.parseFloor[i]!;
    const s = results.serialize[i]!;
    const sf = results.serializeFloor[i]!;
    lines.push(`| ${p.message} | ${p.bytes} | ${fmt(p.median)} [${fmt(p.min)}–${fmt(p.max)}] | ${fmt(pf.median)} | ${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}] | ${fmt(sf.median)} |`);
  });
  return lines.join('\n');
}

/** Entry point for the plain-Node run on compiled output (see bench/sip.md). */
export function main(): void {
  console.log(formatParserResults(runParserBench()));
}
