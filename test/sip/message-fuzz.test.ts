import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseDatagram, serializeMessage, SipParseError, StreamFramer } from '../../src/sip/index.js';

const DIR = '/work/shared/corpus/rfc4475/';
const seeds = ['wsinv.dat', 'intmeth.dat', 'longreq.dat', 'mpart01.dat', 'inv2543.dat', 'unreason.dat'].map((f) => readFileSync(DIR + f));

/** The only acceptable outcomes: a message, or a typed parse error. */
function parseOrTypedError(data: Buffer): void {
  try {
    const message = parseDatagram(data);
    // Whatever parses must re-serialise into something that parses the same way.
    const again = parseDatagram(serializeMessage(message));
    expect(again.startLine).toBe(message.startLine);
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
    expect(error.status === 400 || error.status === 505 || error.status === 513).toBe(true);
  }
}

describe('message fuzzing', () => {
  it('never throws anything but SipParseError on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => parseOrTypedError(Buffer.from(bytes))), { numRuns: 2000 });
  });

  it('never crashes on truncated corpus messages', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.nat(), (seed, cut) => parseOrTypedError(seed.subarray(0, cut % (seed.length + 1)))),
      { numRuns: 1000 },
    );
  });

  it('never crashes on corpus messages with bytes flipped, inserted or deleted', () => {
    const mutation = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('flip', 'insert', 'delete') });
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 8 }), (seed, mutations) => {
        let data = Buffer.from(seed);
        for (const m of mutations) {
          const at = m.at % (data.length + 1);
          if (m.op === 'flip' && at < data.length) data[at] = m.byte;
          else if (m.op === 'insert') data = Buffer.concat([data.subarray(0, at), Buffer.from([m.byte]), data.subarray(at)]);
          else data = Buffer.concat([data.subarray(0, at), data.subarray(at + 1)]);
        }
        parseOrTypedError(data);
      }),
      { numRuns: 2000 },
    );
  });

  it('never crashes on structured garbage made of SIP-looking tokens', () => {
    const token = fc.constantFrom('INVITE', 'SIP/2.0', 'sip:', '@', ':', ';', ',', '<', '>', '"', '\\', ' ', '\t', '\r\n', '\r\n ', 'Via', 'v:', 'branch=', 'z9hG4bK', 'Content-Length', 'l: ', '-1', '99999999999', '%', '%00', '[', ']', '=', 'tag', 'CSeq: 1 INVITE', '\r\n\r\n');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 200 }), (parts) => {
        const data = Buffer.from(parts.join(''));
        parseOrTypedError(data);
        const framer = new StreamFramer();
        for (const item of [...framer.push(data), ...framer.end()]) {
          if (!item.ok) expect(item.error).toBeInstanceOf(SipParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
