/**
 * The SIP parser and serializer on four realistic messages, beside a
 * split-only floor measured in the same run. Plain timing loops; each figure
 * is the median of 5 batches of about 120 ms (SIP_PARSER_RUNS,
 * SIP_PARSER_BATCH_MS). About 15 s. Writes its table into bench/README.md
 * ("SIP stack: parser and calls per second").
 *
 * Run: `npx vitest bench --run bench/sip-parser.bench.ts`.
 */
import { bench, describe } from 'vitest';
import { formatParserResults, runParserBench } from './sip-parser-core.js';
import { writeReadmeSection } from './lib/readme-section.js';

// tinybench calls the function more than once even with `iterations: 1`; the loops are the
// measurement, so they run once and later calls return at once.
let measured = false;

describe('sip message parser and serializer', () => {
  bench(
    'parse + serialize, 4 messages (plain timing loops, median of batches)',
    () => {
      if (measured) return;
      measured = true;
      const markdown = formatParserResults(runParserBench());
      console.log(`\n${markdown}\n`);
      writeReadmeSection('sip-parser', `Under vitest, each figure the median of ${process.env.SIP_PARSER_RUNS ?? 5} batches of about ${process.env.SIP_PARSER_BATCH_MS ?? 120} ms, [min–max] of the batches; the floors in the same run.\n\n${markdown}`, { heading: 'SIP parser: latest run' });
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
