/**
 * Calls per second through the full path (GitHub issue 10, item 1): SIPp as
 * a carrier trunk → SIP → routing_url webhook → `say` over RTP → hangup →
 * CDR written and billed, stepping the rate up (10, 25, 50, 100, 200 cps,
 * 15 s each) until a step fails, with SIPp uac → SIPp uas at the same rates
 * as the reference. The platform runs compiled in its own plain-Node process.
 * See bench/full-path-cps-core.ts for what is measured and how; results are
 * in bench/README.md, "Calls per second, full path".
 *
 * Run: `npx vitest bench --run bench/full-path-cps.bench.ts` (3 to 5 minutes).
 * FULL_PATH_RATES=10,25,50 FULL_PATH_SECONDS=60 FULL_PATH_NUMBERS=20
 * FULL_PATH_REFERENCE=0 FULL_PATH_REFERENCE_HOLD_MS=2000 change the steps;
 * FULL_PATH_KEEP=1 keeps SIPp's files, FULL_PATH_CREDIT sets the wallet
 * (see `optionsFromEnv`).
 */
import { bench, describe } from 'vitest';
import { formatFullPathResults, optionsFromEnv, runFullPathBench } from './full-path-cps-core.js';

// tinybench calls the function more than once even with `iterations: 1`; the stepped run is
// the measurement, so it runs once and later calls return at once.
let measured = false;

describe('full-path calls per second', () => {
  bench(
    'sipp trunk → platform (webhook, say, hangup, CDR), stepped rates, sipp uas as reference',
    async () => {
      if (measured) return;
      measured = true;
      const results = await runFullPathBench({ ...optionsFromEnv(), log: (line) => console.log(line) });
      console.log(`\n${formatFullPathResults(results)}\n`);
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
