export * from './transaction.js';
export * from './invite-client-transaction.js';
export * from './invite-server-transaction.js';
export * from './non-invite-client-transaction.js';
export * from './non-invite-server-transaction.js';
export * from './transaction-layer.js';
