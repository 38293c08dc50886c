import { AppError, errorCatalogue, type ErrorCode } from '../shared/errors.js';

/**
 * What one node asks another over NATS (SPEC §16): the requests the REST API
 * makes about a live call, a conference room or a sandbox call that the other
 * node holds. Each is parsed at the boundary: a message from a peer running
 * another version, or from anything else publishing on the subject, is
 * answered with a clear error and never reaches the engine half-read.
 */
export type NodeRequest =
  /** PATCH /v1/calls/{id}; `body` has passed the route's schema on the asking node, and is checked again here. */
  | { kind: 'call.control'; workspaceId: string; callId: string; body: Record<string, unknown> }
  /** GET /v1/conferences/{name} (and its participants). */
  | { kind: 'conference.get'; workspaceId: string; name: string }
  | { kind: 'conference.end'; workspaceId: string; name: string }
  | { kind: 'conference.participant.update'; workspaceId: string; name: string; callId: string; muted?: boolean; hold?: boolean }
  | { kind: 'conference.participant.kick'; workspaceId: string; name: string; callId: string }
  /** GET /v1/sandbox/calls/{id}: asked of every node, answered only by the one whose sandbox placed it. */
  | { kind: 'sandbox.call'; workspaceId: string; id: string }
  /** One piece of a file only that node has: what a sandbox phone heard, or a recording on its disk. */
  | { kind: 'sandbox.audio.chunk'; workspaceId: string; id: string; offset: number }
  | { kind: 'recording.chunk'; workspaceId: string; recordingId: string; offset: number };

export type NodeRequestKind = NodeRequest['kind'];

/** The answer: the result as the local route would return it, or the AppError it would throw. */
export type NodeReply =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: ErrorCode; message: string; field?: string } };

/** A piece of a file carried in a reply: base64 so the reply stays JSON. */
export interface FileChunk {
  /** The whole file's size in bytes. */
  size: number;
  data: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(message: NodeRequest | NodeReply): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** The reply that carries `error` (an AppError as is; anything else is an internal error, its detail kept in the node's log). */
export function replyOfError(error: unknown): NodeReply {
  if (error instanceof AppError) return { ok: false, error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } };
  return { ok: false, error: { code: 'internal_error', message: 'the node holding the call failed to carry out the request (see its log)' } };
}

/** Thrown by the parsers: what is wrong with a message, for the log and the error reply. */
export class BadNodeMessage extends Error {
  override readonly name = 'BadNodeMessage';
}

type Fields = Record<string, unknown>;

function objectOf(data: Uint8Array | string): Fields {
  let text: string;
  try {
    text = typeof data === 'string' ? data : decoder.decode(data);
  } catch {
    throw new BadNodeMessage('the message is not UTF-8 text');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadNodeMessage('the message is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadNodeMessage('the message is not a JSON object');
  return value as Fields;
}

function text(fields: Fields, name: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) throw new BadNodeMessage(`${name} must be a non-empty string (at most 512 characters)`);
  return value;
}

function flag(fields: Fields, name: string): boolean | undefined {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new BadNodeMessage(`${name} must be true or false when given`);
  return value;
}

function offset(fields: Fields): number {
  const value = fields['offset'];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new BadNodeMessage('offset must be a whole number of bytes, 0 or more');
  return value;
}

/** A request as a peer sent it; throws BadNodeMessage naming the first thing wrong. */
export function parseNodeRequest(data: Uint8Array | string): NodeRequest {
  const m = objectOf(data);
  const kind = m['kind'];
  switch (kind) {
    case 'call.control': {
      const body = m['body'];
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadNodeMessage('body must be a JSON object');
      return { kind, workspaceId: text(m, 'workspaceId'), callId: text(m, 'callId'), body: body as Record<string, unknown> };
    }
    case 'conference.get':
    case 'conference.end':
      return { kind, workspaceId: text(m, 'workspaceId'), name: text(m, 'name') };
    case 'conference.participant.update': {
      const muted = flag(m, 'muted');
      const hold = flag(m, 'hold');
      if (muted === undefined && hold === undefined) throw new BadNodeMessage('conference.participant.update needs muted and/or hold');
      return { kind, workspaceId: text(m, 'workspaceId'), name: text(m, 'name'), callId: text(m, 'callId'), ...(muted !== undefined ? { muted } : {}), ...(hold !== undefined ? { hold } : {}) };
    }
    case 'conference.participant.kick':
      return { kind, workspaceId: text(m, 'workspaceId'), name: text(m, 'name'), callId: text(m, 'callId') };
    case 'sandbox.call':
      return { kind, workspaceId: text(m, 'workspaceId'), id: text(m, 'id') };
    case 'sandbox.audio.chunk':
      return { kind, workspaceId: text(m, 'workspaceId'), id: text(m, 'id'), offset: offset(m) };
    case 'recording.chunk':
      return { kind, workspaceId: text(m, 'workspaceId'), recordingId: text(m, 'recordingId'), offset: offset(m) };
    default:
      throw new BadNodeMessage(typeof kind === 'string' ? `unknown kind '${kind.slice(0, 100)}'` : 'kind must be a string');
  }
}

/** A peer's reply; a malformed one throws BadNodeMessage (the asking node then answers 500, as for any peer fault). */
export function parseNodeReply(data: Uint8Array | string): NodeReply {
  const m = objectOf(data);
  if (m['ok'] === true) {
    if (!('result' in m)) throw new BadNodeMessage('a successful reply must carry result');
    return { ok: true, result: m['result'] };
  }
  if (m['ok'] !== false) throw new BadNodeMessage('ok must be true or false');
  const error = m['error'];
  if (error === null || typeof error !== 'object' || Array.isArray(error)) throw new BadNodeMessage('a failed reply must carry an error object');
  const e = error as Fields;
  const code = e['code'];
  if (typeof code !== 'string' || !Object.hasOwn(errorCatalogue, code)) throw new BadNodeMessage('error.code must be a code of the error catalogue');
  const message = e['message'];
  if (typeof message !== 'string') throw new BadNodeMessage('error.message must be a string');
  const field = e['field'];
  if (field !== undefined && typeof field !== 'string') throw new BadNodeMessage('error.field must be a string when given');
  return { ok: false, error: { code: code as ErrorCode, message, ...(field !== undefined ? { field } : {}) } };
}

/** A file chunk as a reply's result; checked, as any other field from a peer. */
export function fileChunkOf(result: unknown): FileChunk {
  const r = result as Partial<FileChunk> | null;
  if (r === null || typeof r !== 'object' || typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size < 0 || typeof r.data !== 'string') {
    throw new BadNodeMessage('a file chunk must be {size, data}');
  }
  return { size: r.size, data: r.data };
}
