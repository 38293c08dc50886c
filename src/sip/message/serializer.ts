/**
 * SIP message serializer. Content-Length is always written from the actual
 * body (RFC 3261 §20.14), so a caller can never frame a message wrongly.
 */
import type { SipMessage } from './message.js';

export function serializeMessage(message: SipMessage): Buffer {
  let head = `${message.startLine}\r\n`;
  for (const [name, value] of message.headers.entries()) {
    if (name === 'Content-Length') continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `Content-Length: ${message.body.length}\r\n\r\n`;
  return message.body.length === 0 ? Buffer.from(head, 'utf8') : Buffer.concat([Buffer.from(head, 'utf8'), message.body]);
}
