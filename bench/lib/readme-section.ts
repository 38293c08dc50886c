/**
 * `npm run bench` rewrites its own result tables: each benchmark renders its
 * figures as Markdown and hands them to `writeReadmeSection(id, markdown)`,
 * which replaces what lies between `<!-- bench:<id> -->` and
 * `<!-- /bench:<id> -->` in bench/README.md (or appends the pair under a
 * heading when the README has none yet). Prose around the markers — method,
 * findings, history — is the engineers' and is never touched.
 *
 * Every section is stamped with the machine and the date of the run, so a
 * table never outlives the facts it was measured under.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './media-build.js';

export const BENCH_README = path.join(REPO, 'bench/README.md');

/** "AMD EPYC …, 2 vCPUs, 23 GiB, Linux 6.18, Node v20.20.2, load 1.2": what the figures were measured on. */
export function machineLine(): string {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const gib = Math.round(os.totalmem() / 2 ** 30);
  const load = os.loadavg()[0]!.toFixed(1);
  return `${model}, ${cpus.length} vCPUs, ${gib} GiB, Linux ${os.release()}, Node ${process.version}, 1-min load ${load} at the end`;
}

/** Replace (or add) the generated block `id` in `file` (default bench/README.md). */
export function writeReadmeSection(id: string, markdown: string, options: { heading?: string; file?: string } = {}): void {
  if (!/^[a-z0-9-]+$/.test(id)) throw new Error(`bench section id must be kebab-case: ${id}`);
  const file = options.file ?? BENCH_README;
  const begin = `<!-- bench:${id} -->`;
  const end = `<!-- /bench:${id} -->`;
  const stamp = `_Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Machine: ${machineLine()}._`;
  const block = `${begin}\n${stamp}\n\n${markdown.trim()}\n${end}`;
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  let next: string;
  if (from >= 0 && to > from) {
    next = text.slice(0, from) + block + text.slice(to + end.length);
  } else {
    const heading = options.heading ? `\n## ${options.heading}\n\n` : '\n';
    next = `${text.trimEnd()}\n${heading}${block}\n`;
  }
  writeFileSync(file, next);
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A value at quantile q (0..1) of a list, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A Markdown table from a header row and body rows. */
export function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** One figure for the summary table at the top of bench/README.md. */
export interface Headline {
  /** Stable key, e.g. 'full-path-cps'; a later run replaces the row. */
  id: string;
  /** What is measured, e.g. 'Calls per second, full path, 0 failed for 60 s'. */
  what: string;
  /** The figure, e.g. '75 cps (median of 3 runs)'. */
  value: string;
  /** Its reference from the same run, e.g. 'SIPp uac → SIPp uas: ≥ 400 cps'. */
  reference: string;
  /** The goal, e.g. '≥ 500 cps'. */
  goal: string;
  /** The generated block with the details. */
  section: string;
}

export const HEADLINES_FILE = path.join(REPO, 'bench/headlines.json');

/** Record (or replace) a summary figure; `npm run bench` renders them all at the end of the run. */
export function recordHeadline(headline: Headline): void {
  const all = readHeadlines().filter((h) => h.id !== headline.id);
  all.push({ ...headline, measured: new Date().toISOString().slice(0, 16).replace('T', ' ') });
  writeFileSync(HEADLINES_FILE, `${JSON.stringify(all, null, 2)}\n`);
}

function readHeadlines(): (Headline & { measured: string })[] {
  try {
    return JSON.parse(readFileSync(HEADLINES_FILE, 'utf8')) as (Headline & { measured: string })[];
  } catch {
    return [];
  }
}

/** The summary block: every recorded headline beside its reference and goal. */
export function writeSummarySection(): void {
  const rows = readHeadlines().map((h) => [h.what, h.value, h.reference, h.goal, `${h.measured} UTC`, `[details](#${h.section})`]);
  if (rows.length === 0) return;
  writeReadmeSection('summary', markdownTable(['measured', 'Sautikit', 'reference, same run', 'goal (issue)', 'when', 'section'], rows));
}
