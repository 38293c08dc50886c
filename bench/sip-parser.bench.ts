/**
 * SIP parser and serializer messages per second for four realistic messages
 * (INVITE with SDP, 200 OK with SDP, REGISTER with digest, BYE).
 * Run: `npx vitest bench --run bench/sip-parser.bench.ts`.
 *
 * The timing is plain `performance.now()` loops (7 batches of ~300 ms per
 * figure after a calibrating warm-up, median reported) rather than
 * tinybench's per-call sampling, so the figure is a throughput and the
 * loops are the same ones the plain-Node run uses (bench/sip-parser-core.ts).
 * Beside each figure, the "floor": what a parser that only splits lines, or
 * a serializer that only joins them, does on the same message.
 * Results are written up in bench/sip.md.
 */
import { bench, describe } from 'vitest';
import { formatParserResults, runParserBench } from './sip-parser-core.js';

// tinybench calls the function more than once even with `iterations: 1`; the loops are the
// measurement, so they run once and later calls return at once.
let measured = false;

describe('sip message parser and serializer', () => {
  bench(
    'parse + serialize, 4 messages (plain timing loops, median of 7)',
    () => {
      if (measured) return;
      measured = true;
      console.log(`\n${formatParserResults(runParserBench())}\n`);
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
