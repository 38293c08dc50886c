import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, documentedRoutes } from '../../src/api/openapi.js';
import { beginMarker, endMarker, renderApiReference, spliceReference } from '../../src/api/openapi-markdown.js';
import { errorCatalogue } from '../../src/shared/errors.js';

const page = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const document = buildOpenApiDocument('http://127.0.0.1:8080');

describe('docs/api.md is rendered from the OpenAPI document', () => {
  it('has the generated reference between its markers, exactly as `npm run docs:api` writes it', () => {
    expect(page).toContain(beginMarker);
    expect(page).toContain(endMarker);
    const regenerated = spliceReference(page, renderApiReference(document));
    // A plain equality, so that the failure says what to do rather than dumping 1,500 lines.
    if (regenerated !== page) {
      const at = [...regenerated].findIndex((ch, i) => ch !== page[i]);
      const line = page.slice(0, at).split('\n').length;
      expect.fail(`docs/api.md is out of step with the OpenAPI document (src/api/openapi*.ts) from line ${line}: run \`npm run docs:api\` and commit docs/api.md`);
    }
  });

  it('documents every route the server registers, each with a curl example', () => {
    const headings = [...page.matchAll(/^### `([A-Z]+) (\S+)`$/gm)].map((m) => `${m[1]} ${m[2]!.replace(/\{(\w+)\}/g, ':$1')}`);
    expect(headings.sort()).toEqual([...documentedRoutes()].sort());
    const sections = page.split(/^### `/m).slice(1).filter((s) => /^[A-Z]+ \//.test(s));
    for (const section of sections) expect(section, section.split('\n')[0]).toMatch(/```sh\ncurl -s/);
  });

  it('links only error codes that docs/errors.md documents', () => {
    const linked = new Set([...page.matchAll(/\]\(errors\.md#([a-z_]+)\)/g)].map((m) => m[1]!));
    expect(linked.size).toBeGreaterThan(10);
    for (const code of linked) expect(Object.keys(errorCatalogue), code).toContain(code);
  });

  it('keeps the hand-written introduction outside the markers', () => {
    const intro = page.slice(0, page.indexOf(beginMarker));
    expect(intro).toMatch(/^# REST API/);
    expect(intro).toContain('/v1/openapi.json');
    expect(page.slice(page.indexOf(endMarker) + endMarker.length).trim()).toBe('');
  });
});
