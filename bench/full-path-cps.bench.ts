/**
 * Calls per second through the full path (GitHub issue 10, item 1): SIPp as
 * a carrier trunk → SIP → routing_url webhook → `say` over RTP → hangup →
 * CDR written and billed. A ladder of 5 s steps (50 … 500 cps, platform
 * only) finds the highest clean rate; three 15 s runs at that rate, each
 * beside SIPp uac → SIPp uas at the same rate, confirm it (both measured
 * after 5 s of calls on the same process, as warm as in service). About 4 to 5
 * minutes. The platform runs compiled in its own plain-Node process. See
 * bench/full-path-cps-core.ts for what is measured and how; the tables are
 * written into bench/README.md ("Calls per second, full path").
 *
 * Run: `npx vitest bench --run bench/full-path-cps.bench.ts`.
 * FULL_PATH_RATES, FULL_PATH_SECONDS (ladder), FULL_PATH_CONFIRM_RUNS,
 * FULL_PATH_CONFIRM_SECONDS (60 for the minute), FULL_PATH_WARM_UP_SECONDS, FULL_PATH_REFERENCE=0,
 * FULL_PATH_KEEP=1, FULL_PATH_NODE_ARGS (see `optionsFromEnv`).
 */
import { bench, describe } from 'vitest';
import { formatFullPathResults, fullPathHeadline, optionsFromEnv, runFullPathBench } from './full-path-cps-core.js';
import { recordHeadline, writeReadmeSection } from './lib/readme-section.js';

// tinybench calls the function more than once even with `iterations: 1`; the stepped run is
// the measurement, so it runs once and later calls return at once.
let measured = false;

describe('full-path calls per second', () => {
  bench(
    'sipp trunk → platform (webhook, say, hangup, CDR): ladder, then confirmation runs beside sipp uas',
    async () => {
      if (measured) return;
      measured = true;
      const results = await runFullPathBench({ ...optionsFromEnv(), log: (line) => console.log(line) });
      const markdown = formatFullPathResults(results);
      console.log(`\n${markdown}\n`);
      writeReadmeSection('full-path-cps', markdown, { heading: 'Calls per second, full path: latest run' });
      recordHeadline(fullPathHeadline(results));
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
