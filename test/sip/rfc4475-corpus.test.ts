import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDatagram, Registrar, serializeMessage, SipParseError, SipUserAgent, type SipMessage } from '../../src/sip/index.js';
import { FAST_TIMERS, tcpExchange, udpExchange, type Exchange } from './helpers.js';

const DIR = '/work/shared/corpus/rfc4475/';

interface Entry {
  file: string;
  group: string;
  kind: 'request' | 'response';
  expected: string;
}

const manifest: Entry[] = readFileSync(`${DIR}MANIFEST.tsv`, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [file = '', , group = '', kind = '', expected = ''] = line.split('\t');
    return { file, group, kind: kind as Entry['kind'], expected };
  })
  .filter((e) => e.file !== 'test.dat'); // cited by no RFC section: excluded from counts

const bytes = (file: string): Buffer => readFileSync(DIR + file);

/**
 * What the Sautikit endpoint answers to each file (first final response),
 * derived from the manifest; `null` = silently dropped.
 */
const EXPECTED_FINAL: Record<string, number | null> = {
  'wsinv.dat': 481, 'intmeth.dat': 501, 'esc01.dat': 486, 'escnull.dat': 200, 'esc02.dat': 501,
  'lwsdisp.dat': 200, 'longreq.dat': 486, 'dblreq.dat': 401, 'semiuri.dat': 200, 'transports.dat': 200,
  'mpart01.dat': 501, 'unreason.dat': null, 'noreason.dat': null,
  'badinv01.dat': 400, 'clerr.dat': 400, 'ncl.dat': 400, 'scalar02.dat': 400, 'scalarlg.dat': null,
  'quotbal.dat': 400, 'ltgtruri.dat': 400, 'lwsruri.dat': 400, 'lwsstart.dat': 400, 'trws.dat': 400,
  'escruri.dat': 400, 'baddate.dat': 400, 'regbadct.dat': 400, 'badaspec.dat': 400, 'baddn.dat': 400,
  'badvers.dat': 505, 'mismatch01.dat': 400, 'mismatch02.dat': 501, 'bigcode.dat': null,
  'badbranch.dat': 200, 'insuf.dat': 400, 'unkscm.dat': 416, 'novelsc.dat': 416, 'unksm2.dat': 400,
  'bext01.dat': 420, 'invut.dat': 415, 'regaut01.dat': 401, 'multi01.dat': 400, 'mcl01.dat': 400,
  'bcast.dat': null, 'zeromf.dat': 200, 'cparam01.dat': 200, 'cparam02.dat': 200, 'regescrt.dat': 200,
  'sdp01.dat': 406, 'inv2543.dat': 486,
};

/** Files whose bytes end before a complete stream message: over TCP the sender half-closes. */
const NEEDS_EOF = new Set(['baddn.dat', 'clerr.dat']);
/** Framing is lost: over TCP the server must close the connection (RFC 4475 §3.1.2.3, §3.3.9). */
const CLOSES_TCP = new Set(['ncl.dat', 'mcl01.dat']);

/** A structural view used to compare a message with its re-serialised form. */
function view(message: SipMessage): unknown {
  return {
    start: message.startLine,
    headers: message.headers.entries().filter(([name]) => name !== 'Content-Length'),
    body: message.body.toString('hex'),
  };
}

describe('RFC 4475 corpus', () => {
  it('covers every manifest entry with an expectation', () => {
    expect(manifest).toHaveLength(49);
    for (const entry of manifest) expect(EXPECTED_FINAL, entry.file).toHaveProperty([entry.file]);
  });

  describe('parser', () => {
    const valid = manifest.filter((e) => e.group === 'valid' || ['unkscm.dat', 'novelsc.dat', 'unksm2.dat', 'invut.dat', 'regaut01.dat', 'cparam01.dat', 'cparam02.dat', 'regescrt.dat', 'inv2543.dat', 'bext01.dat', 'sdp01.dat', 'zeromf.dat', 'bcast.dat', 'badbranch.dat'].includes(e.file));
    it.each(valid.map((e) => [e.file]))('parses %s and re-serialises it equivalently', (file) => {
      const message = parseDatagram(bytes(file));
      const again = parseDatagram(serializeMessage(message));
      expect(view(again)).toEqual(view(message));
      expect(serializeMessage(again).equals(serializeMessage(message))).toBe(true);
    });

    const invalid = manifest.filter((e) => e.group === 'invalid' || ['insuf.dat', 'multi01.dat', 'mcl01.dat'].includes(e.file));
    it.each(invalid.map((e) => [e.file]))('rejects %s with a typed error', (file) => {
      expect(() => parseDatagram(bytes(file))).toThrow(SipParseError);
    });

    it('reads the method of esc02.dat literally, not as an escape', () => {
      const message = parseDatagram(bytes('esc02.dat'));
      expect(message.kind === 'request' && message.method).toBe('RE%47IST%45R');
    });

    it('keeps unknownparam as a contact parameter in cparam01.dat and a URI parameter in cparam02.dat', () => {
      const one = parseDatagram(bytes('cparam01.dat')).contacts;
      const two = parseDatagram(bytes('cparam02.dat')).contacts;
      expect(one !== '*' && one[0]!.params.has('unknownparam')).toBe(true);
      expect(two !== '*' && two[0]!.uri.scheme === 'sip' && 'params' in two[0]!.uri && two[0]!.uri.params.has('unknownparam')).toBe(true);
    });

    it('processes only the first request of dblreq.dat', () => {
      const message = parseDatagram(bytes('dblreq.dat'));
      expect(message.kind === 'request' && message.method).toBe('REGISTER');
      expect(message.body.length).toBe(0);
    });

    it('unfolds wsinv.dat and reads its odd whitespace', () => {
      const message = parseDatagram(bytes('wsinv.dat'));
      expect(message.cseq).toEqual({ seq: 9, method: 'INVITE' });
      expect(message.maxForwards).toBe(68);
      expect(message.vias.map((v) => v.transport)).toEqual(['UDP', 'TCP', 'UDP']);
      expect(message.from.displayName).toBe('J Rosenberg \\"');
      expect(message.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
      expect(message.body.length).toBe(150);
    });

    it('names the version problem of badvers.dat with status 505', () => {
      const error = (() => {
        try {
          parseDatagram(bytes('badvers.dat'));
        } catch (e) {
          return e as SipParseError;
        }
        return undefined;
      })();
      expect(error?.status).toBe(505);
    });
  });

  describe('endpoint', () => {
    let ua: SipUserAgent;
    let udpPort: number;
    let tcpPort: number;

    // A fresh endpoint per file: many files share a branch and sent-by, and would otherwise match
    // the previous file's server transaction as retransmissions (RFC 3261 §17.2.3).
    beforeEach(async () => {
      const registrar = new Registrar({
        realm: 'example.com',
        credentials: async (user) => (user === 'j.user' ? 'secret' : undefined),
        requireAuth: (aor) => aor === 'sip:j.user@example.com',
      });
      ua = new SipUserAgent({
        listen: [
          { protocol: 'udp', host: '127.0.0.1', port: 0 },
          { protocol: 'tcp', host: '127.0.0.1', port: 0 },
        ],
        timers: FAST_TIMERS,
        registrar,
      });
      ua.on('invite', (call) => call.reject(486));
      await ua.start();
      udpPort = ua.localAddress('udp').port;
      tcpPort = ua.localAddress('tcp').port;
    });

    afterEach(() => ua.close());

    function check(entry: Entry, exchange: Exchange): void {
      const expected = EXPECTED_FINAL[entry.file];
      const finals = exchange.responses.filter((r) => r.status >= 200 && (entry.file !== 'dblreq.dat' || r.headers.get('CSeq')?.endsWith('REGISTER')));
      if (expected === null) {
        expect(exchange.responses, `${entry.file} must be dropped`).toHaveLength(0);
        return;
      }
      expect(finals[0]?.status, `${entry.file}: ${entry.expected}`).toBe(expected);
      if (expected === 400) expect(finals[0]!.reason).toMatch(/^Bad Request \(.+\)$/);
      if (entry.file === 'bext01.dat') expect(finals[0]!.headers.getAll('Unsupported').join(', ')).toBe('nothingSupportsThis, nothingSupportsThisEither');
      if (entry.file === 'regaut01.dat') expect(finals[0]!.headers.get('WWW-Authenticate')).toMatch(/^Digest realm="example.com"/);
      if (entry.file === 'invut.dat') expect(finals[0]!.headers.get('Accept')).toBe('application/sdp');
    }

    it.each(manifest.map((e) => [e.file, e]))('answers %s over UDP as the manifest says', async (_file, entry) => {
      const expected = EXPECTED_FINAL[entry.file];
      const exchange = await udpExchange(udpPort, bytes(entry.file), { untilFinal: expected !== null && entry.file !== 'dblreq.dat' });
      check(entry, exchange);
      if (entry.file === 'dblreq.dat') expect(exchange.responses.map((r) => r.headers.get('CSeq'))).toEqual(['8 REGISTER']);
    });

    it.each(manifest.map((e) => [e.file, e]))('answers %s over TCP as the manifest says', async (_file, entry) => {
      const expected = EXPECTED_FINAL[entry.file];
      const exchange = await tcpExchange(tcpPort, bytes(entry.file), { untilFinal: expected !== null && entry.file !== 'dblreq.dat', halfClose: NEEDS_EOF.has(entry.file), waitClose: CLOSES_TCP.has(entry.file) });
      check(entry, exchange);
      if (CLOSES_TCP.has(entry.file)) expect(exchange.closed, `${entry.file} closes the connection`).toBe(true);
    });

    it('still answers after the whole corpus', async () => {
      const exchange = await udpExchange(udpPort, bytes('lwsdisp.dat'), { untilFinal: true });
      expect(exchange.responses.at(-1)?.status).toBe(200);
    });
  });
});
