/**
 * Calls per second a minimal UAS on the SIP stack sustains under SIPp's
 * `uac` scenario with 0 failed calls, stepping the rate up (50, 100, 200,
 * 400, 800, 1600, 2400, 3200 cps, 10 s each, calls held 1 s, UDP on
 * 127.0.0.1) until a step fails, with SIPp's `uas` scenario at the same
 * rates in the same run as the reference. See bench/sip-cps-core.ts for
 * what is measured and how; results are written up in bench/sip.md.
 *
 * Run: `npx vitest bench --run bench/sip-cps.bench.ts` (3 to 4 minutes).
 * SIP_CPS_RATES, SIP_CPS_SECONDS, SIP_CPS_HOLD_MS, SIP_CPS_TRANSPORT=tcp and
 * SIP_CPS_REFERENCE=0 change the steps (see `optionsFromEnv`).
 */
import { bench, describe } from 'vitest';
import { formatCpsResults, optionsFromEnv, runCpsBench } from './sip-cps-core.js';

// tinybench calls the function more than once even with `iterations: 1`; the stepped run is
// the measurement, so it runs once and later calls return at once.
let measured = false;

describe('sip calls per second', () => {
  bench(
    'minimal UAS under sipp uac, stepped rates, sipp uas as reference',
    async () => {
      if (measured) return;
      measured = true;
      const results = await runCpsBench({ ...optionsFromEnv(), log: (line) => console.log(line) });
      console.log(`\n${formatCpsResults(results)}\n`);
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
