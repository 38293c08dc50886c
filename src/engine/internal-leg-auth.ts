import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SystemStateRepo } from '../store/repos/system-state-repo.js';

/** What a node tells a room's home node about the participant its internal leg carries (SPEC §16). */
export interface InternalLegFields {
  workspaceId: string;
  room: string;
  /** The REAL participant's call id: the home node lists, mutes and kicks the participant by it. */
  callId: string;
  /** The participant's join options (muted, startOnEnter, endOnExit, beep, hold…) as JSON. */
  joinOptions: string;
}

export type InternalLegCheck = { ok: true; fields: InternalLegFields } | { ok: false; reason: string };

const header = {
  workspaceId: 'X-Sautikit-Workspace', room: 'X-Sautikit-Room', callId: 'X-Sautikit-Call-Id', joinOptions: 'X-Sautikit-Join',
  time: 'X-Sautikit-Time', signature: 'X-Sautikit-Signature',
} as const;
const secretKey = 'internal_leg_secret';
/** An INVITE older (or newer) than this is refused, so a captured one cannot be replayed later. */
export const internalLegMaxSkewMs = 30_000;

/** The secret every node shares: one row of system_state, created by whichever node asks first. */
export async function loadInternalLegKey(systemState: SystemStateRepo): Promise<Buffer> {
  return Buffer.from(await systemState.getOrCreate(secretKey, () => randomBytes(32).toString('base64')), 'base64');
}

// Values are URI-encoded so none can carry the newline the MAC input is joined with.
const macInput = (fields: InternalLegFields, time: string): string =>
  [fields.workspaceId, fields.room, fields.callId, fields.joinOptions, time].map(encodeURIComponent).join('\n');
const mac = (key: Buffer, input: string): Buffer => createHmac('sha256', key).update(input).digest();

/** The X-Sautikit-* headers of an internal INVITE, signed with the shared key and the time now. */
export function signInternalLeg(key: Buffer, fields: InternalLegFields, now: Date): Record<string, string> {
  const time = String(now.getTime());
  return {
    [header.workspaceId]: encodeURIComponent(fields.workspaceId), [header.room]: encodeURIComponent(fields.room),
    [header.callId]: encodeURIComponent(fields.callId), [header.joinOptions]: encodeURIComponent(fields.joinOptions),
    [header.time]: time, [header.signature]: mac(key, macInput(fields, time)).toString('base64url'),
  };
}

/**
 * Checks an incoming INVITE's X-Sautikit-* headers (`get` answers a header by
 * name, case-insensitively, as the SIP parser does — RFC 3261 §7.3.1). Only a
 * node holding the shared key can produce a signature that passes.
 */
export function verifyInternalLeg(key: Buffer, get: (name: string) => string | undefined, now: Date): InternalLegCheck {
  const raw = Object.fromEntries(Object.entries(header).map(([field, name]) => [field, get(name)])) as Record<keyof typeof header, string | undefined>;
  const missing = Object.entries(raw).filter(([, v]) => v === undefined || v === '').map(([field]) => header[field as keyof typeof header]);
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')}` };
  const time = Number(raw.time);
  if (!Number.isSafeInteger(time)) return { ok: false, reason: `${header.time} is not a number of milliseconds` };
  if (Math.abs(now.getTime() - time) > internalLegMaxSkewMs) return { ok: false, reason: `${header.time} is more than ${internalLegMaxSkewMs} ms away from now` };
  let fields: InternalLegFields;
  try {
    fields = { workspaceId: decodeURIComponent(raw.workspaceId!), room: decodeURIComponent(raw.room!), callId: decodeURIComponent(raw.callId!), joinOptions: decodeURIComponent(raw.joinOptions!) };
  } catch {
    return { ok: false, reason: 'a header is not valid percent-encoding' };
  }
  const expected = mac(key, macInput(fields, raw.time!));
  const given = Buffer.from(raw.signature!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  return { ok: true, fields };
}
