import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { callErrorCodes, hangupCauses } from '../../src/shared/call-codes.js';

/** docs/calls.md and src/shared/call-codes.ts list the same codes with the same meaning (as errors.md does for REST errors). */
describe('call codes and docs/calls.md', () => {
  const doc = readFileSync(new URL('../../docs/calls.md', import.meta.url), 'utf8');
  const section = (title: string) => {
    const start = doc.indexOf(`\n## ${title}\n`);
    expect(start, `docs/calls.md has a "## ${title}" section`).toBeGreaterThan(-1);
    const end = doc.indexOf('\n## ', start + 1);
    return doc.slice(start, end === -1 ? undefined : end);
  };
  const documented = (text: string) => Object.fromEntries([...text.matchAll(/^### `([a-z_]+)`\n\n(.+)\n\nWhat to do: .+$/gm)].map((m) => [m[1], m[2]]));
  const summaries = (catalogue: Record<string, { summary: string }>) => Object.fromEntries(Object.entries(catalogue).map(([code, e]) => [code, e.summary]));

  it('documents every hang-up cause with its meaning and what to do, and no cause that does not exist', () => {
    expect(documented(section('Hang-up causes'))).toEqual(summaries(hangupCauses));
  });

  it('documents every call error code with its meaning and what to do, and no code that does not exist', () => {
    expect(documented(section('Call errors'))).toEqual(summaries(callErrorCodes));
  });
});
