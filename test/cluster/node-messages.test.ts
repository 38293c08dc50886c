import { describe, expect, it } from 'vitest';
import { BadNodeMessage, encodeMessage, fileChunkOf, parseNodeReply, parseNodeRequest, replyOfError } from '../../src/cluster/node-messages.js';
import { AppError } from '../../src/shared/errors.js';

describe('node messages: parsed at the boundary', () => {
  it('reads every kind of request back as it was sent', () => {
    const requests = [
      { kind: 'call.control', workspaceId: 'ws_1', callId: 'call_1', body: { status: 'completed' } },
      { kind: 'conference.get', workspaceId: 'ws_1', name: 'room' },
      { kind: 'conference.end', workspaceId: 'ws_1', name: 'room' },
      { kind: 'conference.participant.update', workspaceId: 'ws_1', name: 'room', callId: 'call_1', muted: true },
      { kind: 'conference.participant.kick', workspaceId: 'ws_1', name: 'room', callId: 'call_1' },
      { kind: 'sandbox.call', workspaceId: 'ws_1', id: 'sbx_1' },
      { kind: 'sandbox.audio.chunk', workspaceId: 'ws_1', id: 'sbx_1', offset: 524288 },
      { kind: 'recording.chunk', workspaceId: 'ws_1', recordingId: 'rec_1', offset: 0 },
    ] as const;
    for (const request of requests) expect(parseNodeRequest(encodeMessage(request))).toEqual(request);
  });

  it.each([
    ['not UTF-8', new Uint8Array([0xff, 0xfe, 0x00]), 'not UTF-8'],
    ['not JSON', '{"kind":', 'not JSON'],
    ['an array', '[1,2]', 'not a JSON object'],
    ['null', 'null', 'not a JSON object'],
    ['no kind', '{"workspaceId":"ws"}', 'kind must be a string'],
    ['an unknown kind', '{"kind":"call.explode"}', "unknown kind 'call.explode'"],
    ['a missing field', '{"kind":"call.control","workspaceId":"ws","body":{}}', 'callId must be a non-empty string'],
    ['an empty id', '{"kind":"sandbox.call","workspaceId":"ws","id":""}', 'id must be a non-empty string'],
    ['a body that is not an object', '{"kind":"call.control","workspaceId":"ws","callId":"c","body":[1]}', 'body must be a JSON object'],
    ['muted not boolean', '{"kind":"conference.participant.update","workspaceId":"ws","name":"r","callId":"c","muted":"yes"}', 'muted must be true or false'],
    ['neither muted nor hold', '{"kind":"conference.participant.update","workspaceId":"ws","name":"r","callId":"c"}', 'needs muted and/or hold'],
    ['a negative offset', '{"kind":"recording.chunk","workspaceId":"ws","recordingId":"r","offset":-1}', 'offset must be a whole number'],
    ['a fractional offset', '{"kind":"sandbox.audio.chunk","workspaceId":"ws","id":"s","offset":1.5}', 'offset must be a whole number'],
  ])('refuses %s with a clear error', (_name, data, message) => {
    expect(() => parseNodeRequest(data)).toThrow(BadNodeMessage);
    expect(() => parseNodeRequest(data)).toThrow(message);
  });

  it('carries an AppError across as code, message and field; anything else as internal_error', () => {
    const reply = replyOfError(new AppError('call_not_active', 'call x is completed', 'id'));
    expect(parseNodeReply(encodeMessage(reply))).toEqual({ ok: false, error: { code: 'call_not_active', message: 'call x is completed', field: 'id' } });
    expect(replyOfError(new TypeError('boom secret detail'))).toEqual({ ok: false, error: { code: 'internal_error', message: expect.not.stringContaining('secret') } });
    expect(parseNodeReply(encodeMessage({ ok: true, result: { id: 'call_1' } }))).toEqual({ ok: true, result: { id: 'call_1' } });
    expect(parseNodeReply(encodeMessage({ ok: true, result: null }))).toEqual({ ok: true, result: null });
  });

  it.each([
    ['ok missing', '{"result":1}', 'ok must be true or false'],
    ['a success without result', '{"ok":true}', 'must carry result'],
    ['an error code outside the catalogue', '{"ok":false,"error":{"code":"teapot","message":"m"}}', 'code of the error catalogue'],
    ['an error without message', '{"ok":false,"error":{"code":"not_found"}}', 'error.message must be a string'],
    ['an error that is a string', '{"ok":false,"error":"bad"}', 'must carry an error object'],
  ])('refuses a reply with %s', (_name, data, message) => {
    expect(() => parseNodeReply(data)).toThrow(message);
  });

  it('checks file chunks', () => {
    expect(fileChunkOf({ size: 3, data: 'AAAA' })).toEqual({ size: 3, data: 'AAAA' });
    for (const bad of [null, 'x', { size: -1, data: '' }, { size: 1 }, { size: 1.5, data: '' }]) expect(() => fileChunkOf(bad)).toThrow(BadNodeMessage);
  });
});
