import type { Migration, MigrationProvider } from 'kysely';
import * as initialSchema from './001-initial-schema.js';
import * as secretRotation from './002-secret-rotation.js';
import * as trunks from './003-trunks.js';
import * as sipCredentials from './004-sip-credentials.js';
import * as accountBalances from './005-account-balances.js';
import * as callLiveness from './006-call-liveness.js';
import * as sipRegistrations from './007-sip-registrations.js';
import * as softphoneCalls from './008-softphone-calls.js';
import * as trunkCarrierFields from './010-trunk-carrier-fields.js';
import * as callTimeline from './011-call-timeline.js';
import * as trunkSrtp from './012-trunk-srtp.js';
import * as answeredBy from './013-answered-by.js';
import * as outboxOrderingKey from './014-outbox-ordering-key.js';
import * as nodes from './015-nodes.js';
import * as roomHomes from './016-room-homes.js';
import * as oneLiveCallIndex from './017-one-live-call-index.js';

/** Migrations in order; names sort, and Kysely applies each once. */
const migrations: Record<string, Migration> = {
  '001-initial-schema': initialSchema,
  '002-secret-rotation': secretRotation,
  '003-trunks': trunks,
  '004-sip-credentials': sipCredentials,
  '005-account-balances': accountBalances,
  '006-call-liveness': callLiveness,
  '007-sip-registrations': sipRegistrations,
  '008-softphone-calls': softphoneCalls,
  '010-trunk-carrier-fields': trunkCarrierFields,
  '011-call-timeline': callTimeline,
  '012-trunk-srtp': trunkSrtp,
  '013-answered-by': answeredBy,
  '014-outbox-ordering-key': outboxOrderingKey,
  '015-nodes': nodes,
  '016-room-homes': roomHomes,
  '017-one-live-call-index': oneLiveCallIndex,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
