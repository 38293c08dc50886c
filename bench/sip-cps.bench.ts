/**
 * Calls per second through the SIP stack alone: SIPp's uac scenario against
 * a minimal UAS (a SipUserAgent in this process answering every INVITE). A
 * ladder of 4 s steps (800 … 4800 cps) finds the highest clean rate; three
 * 4 s runs at that rate, each beside SIPp's own uas at the same rate,
 * confirm it. About a minute. Writes its tables into bench/README.md ("SIP
 * stack: parser and calls per second"). See bench/sip-cps-core.ts.
 *
 * Run: `npx vitest bench --run bench/sip-cps.bench.ts`; SIP_CPS_TRANSPORT=tcp,
 * SIP_CPS_RATES, SIP_CPS_SECONDS, SIP_CPS_CONFIRM_RUNS, SIP_CPS_CONFIRM_SECONDS,
 * SIP_CPS_HOLD_MS, SIP_CPS_REFERENCE=0 (see `optionsFromEnv`).
 */
import { bench, describe } from 'vitest';
import { cpsHeadline, formatCpsResults, optionsFromEnv, runCpsBench } from './sip-cps-core.js';
import { recordHeadline, writeReadmeSection } from './lib/readme-section.js';

// tinybench calls the function more than once even with `iterations: 1`; the stepped run is
// the measurement, so it runs once and later calls return at once.
let measured = false;

describe('sip calls per second', () => {
  bench(
    'minimal UAS under sipp uac: ladder, then confirmation runs beside sipp uas',
    async () => {
      if (measured) return;
      measured = true;
      const options = optionsFromEnv();
      const results = await runCpsBench({ ...options, log: (line) => console.log(line) });
      const markdown = formatCpsResults(results);
      console.log(`\n${markdown}\n`);
      // TCP runs go to their own block, so the default UDP table stays.
      const id = results.transport === 'tcp' ? 'sip-cps-tcp' : 'sip-cps';
      writeReadmeSection(id, markdown, { heading: `SIP stack calls per second (${results.transport.toUpperCase()}): latest run` });
      recordHeadline(cpsHeadline(results));
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
