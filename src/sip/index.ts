/**
 * Sautikit's SIP stack (RFC 3261 over UDP and TCP). Knows nothing of HTTP,
 * voice actions or the database. See docs/sip.md.
 */
export * from './message/index.js';
export * from './transport/transport.js';
export { UdpTransport, type UdpTransportOptions } from './transport/udp-transport.js';
export { TcpTransport, type TcpTransportOptions } from './transport/tcp-transport.js';
export * from './transaction/index.js';
export * from './dialog/dialog.js';
export * from './ua/digest.js';
export * from './ua/registrar.js';
export * from './ua/message-factory.js';
export * from './ua/sip-session.js';
export * from './ua/incoming-call.js';
export * from './ua/outgoing-call.js';
export * from './ua/uas-checks.js';
export * from './ua/sip-user-agent.js';
export type { SentRequest, SendOptions } from './ua/ua-core.js';
