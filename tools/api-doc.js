// Rewrites the generated reference of docs/api.md from the OpenAPI document
// (src/api/openapi*.ts), keeping the hand-written text around the markers.
// Run with `npm run docs:api` (it builds dist/ first); `--check` only reports.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { buildOpenApiDocument } from '../dist/api/openapi.js';
import { renderApiReference, spliceReference } from '../dist/api/openapi-markdown.js';

const page = new URL('../docs/api.md', import.meta.url);
const before = readFileSync(page, 'utf8');
const after = spliceReference(before, renderApiReference(buildOpenApiDocument('http://127.0.0.1:8080')));

if (after === before) {
  process.stdout.write('docs/api.md is up to date\n');
} else if (process.argv.includes('--check')) {
  process.stderr.write('docs/api.md is out of step with the OpenAPI document: run `npm run docs:api`\n');
  process.exitCode = 1;
} else {
  writeFileSync(page, after);
  process.stdout.write('docs/api.md rewritten from the OpenAPI document\n');
}
