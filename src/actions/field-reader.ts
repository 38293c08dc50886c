import { ActionValidationError, type ActionNode } from './action-node.js';

/**
 * Typed reads of an action's fields. JSON values must have the right type;
 * XML attributes are strings and are converted (`"5"` → 5, `"true"` → true).
 * Unknown extra fields are ignored (SPEC §6) but remembered: what the action
 * never read is what `unknownFields` reports (SPEC §14). A wrong type is an
 * error that names the action's index and the field.
 */
export class FieldReader {
  /** The fields the action asked for, whether present or not: what it knows. */
  readonly #known = new Set<string>();

  /** `prefix` names the enclosing object of a nested reader (`bidirectionalAudio.`), so errors name the full field. */
  constructor(readonly node: ActionNode, readonly action: string, readonly prefix = '') {}

  /** Marks a field as the action's own without reading it (the JSON array of nested actions). */
  know(name: string): void {
    this.#known.add(name);
  }

  /**
   * The fields present that the action never asked for (typos such as
   * `numDigit`): ignored, but reported (SPEC §14). Call after parsing, when
   * every field the action knows has been read.
   */
  unknownFields(): string[] {
    return Object.keys(this.node.fields).filter((name) => !this.#known.has(name));
  }

  /** The known field closest to `name` (a typo's likely meaning), if one is close. */
  closestKnown(name: string): string | undefined {
    let best: { name: string; distance: number } | undefined;
    for (const known of this.#known) {
      const distance = editDistance(name.toLowerCase(), known.toLowerCase());
      if (distance <= Math.max(1, Math.floor(known.length / 4)) && (!best || distance < best.distance)) best = { name: known, distance };
    }
    return best?.name;
  }

  fail(field: string | undefined, problem: string): never {
    if (field !== undefined) field = this.prefix + field;
    const where = field ? `${this.node.path}.${this.action}.${field}` : `${this.node.path}.${this.action}`;
    throw new ActionValidationError(this.node.path, this.node.index, this.action, field, `${where} ${problem}`);
  }

  #raw(name: string): unknown {
    this.#known.add(name);
    const v = this.node.fields[name];
    return v === null ? undefined : v;
  }

  string(name: string, opts: { required?: boolean; enum?: readonly string[]; maxLength?: number; text?: boolean } = {}): string | undefined {
    let v = this.#raw(name);
    if (v === undefined && opts.text && this.node.text !== undefined && this.node.text !== '') v = this.node.text;
    if (v === undefined) {
      if (opts.required) this.fail(name, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') this.fail(name, 'must be a string');
    if (v.length > (opts.maxLength ?? 8192)) this.fail(name, `must be at most ${opts.maxLength ?? 8192} characters`);
    if (opts.enum && !opts.enum.includes(v)) this.fail(name, `must be one of ${opts.enum.map((e) => `"${e}"`).join(', ')}`);
    return v;
  }

  requiredString(name: string, opts: { enum?: readonly string[]; maxLength?: number; text?: boolean } = {}): string {
    const v = this.string(name, { ...opts, required: true })!;
    if (v.trim() === '') this.fail(name, 'must not be empty');
    return v;
  }

  url(name: string, opts: { required?: boolean; text?: boolean; schemes?: readonly string[] } = {}): string | undefined {
    const v = this.string(name, { ...opts, maxLength: 4096 });
    if (v === undefined) return undefined;
    const schemes = opts.schemes ?? ['http:', 'https:'];
    let url: URL;
    try {
      url = new URL(v.trim());
    } catch {
      return this.fail(name, 'must be an absolute URL');
    }
    if (!schemes.includes(url.protocol)) this.fail(name, `must be a ${schemes.map((s) => s.replace(':', '')).join(' or ')} URL`);
    return v.trim();
  }

  integer(name: string, range: { min: number; max: number }): number | undefined {
    return this.#numeric(name, range, true);
  }

  number(name: string, range: { min: number; max: number }): number | undefined {
    return this.#numeric(name, range, false);
  }

  #numeric(name: string, range: { min: number; max: number }, whole: boolean): number | undefined {
    let v = this.#raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && this.node.fromXml && v.trim() !== '') v = Number(v.trim());
    if (typeof v !== 'number' || !Number.isFinite(v) || (whole && !Number.isInteger(v)) || v < range.min || v > range.max) {
      this.fail(name, `must be a ${whole ? 'whole number' : 'number'} from ${range.min} to ${range.max}`);
    }
    return v;
  }

  boolean(name: string): boolean | undefined {
    let v = this.#raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && this.node.fromXml) {
      const t = v.trim().toLowerCase();
      if (t === 'true') v = true;
      else if (t === 'false') v = false;
    }
    if (typeof v !== 'boolean') this.fail(name, 'must be true or false');
    return v;
  }

  /** A string or an array of strings; with `split`, a string is a space- or comma-separated list. */
  stringList(name: string, opts: { split?: boolean } = {}): string[] | undefined {
    const v = this.#raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return opts.split ? v.split(/[\s,]+/).filter(Boolean) : [v];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
    return this.fail(name, 'must be a string or an array of strings');
  }

  /**
   * A nested object (`bidirectionalAudio: {…}`) read with the same typed
   * methods; XML gives it as a JSON attribute (whose values then keep their
   * JSON types). Undefined when absent.
   */
  object(name: string): FieldReader | undefined {
    const v = this.#jsonObject(name, 'must be an object');
    if (v === undefined) return undefined;
    return new FieldReader({ ...this.node, fields: v, text: undefined, fromXml: false }, this.action, `${this.prefix}${name}.`);
  }

  #jsonObject(name: string, problem: string): Record<string, unknown> | undefined {
    let v = this.#raw(name);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && this.node.fromXml) {
      try {
        v = JSON.parse(v);
      } catch {
        this.fail(name, `${problem} (JSON in XML)`);
      }
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(name, problem);
    return v as Record<string, unknown>;
  }

  /** An object of string values (metadata); XML gives it as a JSON attribute. */
  stringMap(name: string, maxPairs = 16): Record<string, string> | undefined {
    const v = this.#jsonObject(name, 'must be an object of strings');
    if (v === undefined) return undefined;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length > maxPairs) this.fail(name, `must have at most ${maxPairs} entries`);
    const out: Record<string, string> = {};
    for (const [k, val] of entries) {
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') this.fail(`${name}.${k}`, 'must be a string');
      out[k] = String(val);
    }
    return out;
  }
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
