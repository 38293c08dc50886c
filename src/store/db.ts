/**
 * Kysely table types. Both dialects store the same shapes: ids are text,
 * timestamps are ISO-8601 UTC text (they sort as time), money is integer
 * cents, booleans are 0/1 integers and JSON is text. The repositories turn
 * rows into typed values; nothing above the store sees these raw shapes.
 */
import type { Kysely } from 'kysely';

export interface WorkspacesTable {
  id: string;
  name: string;
  signing_secret: string;
  /** The secret replaced by the last rotation; still valid until previous_secret_expires_at. */
  previous_signing_secret: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
}

export interface ApiKeysTable {
  id: string;
  /** null for admin keys. */
  workspace_id: string | null;
  kind: 'admin' | 'workspace';
  /** SHA-256 hex of the whole key. */
  key_hash: string;
  /** First characters of the key, to recognise it in listings. */
  key_prefix: string;
  created_at: string;
  revoked_at: string | null;
}

export interface NumberInventoryTable {
  number: string;
  kind: 'mobile' | 'landline' | 'tollfree';
  added_at: string;
  /** The numbers row of the current claim, or null when available. */
  claimed_by: string | null;
}

export interface NumbersTable {
  id: string;
  workspace_id: string;
  number: string;
  routing_url: string | null;
  status_url: string | null;
  fallback_url: string | null;
  friendly_name: string | null;
  claimed_at: string;
  released_at: string | null;
}

export interface CallsTable {
  id: string;
  workspace_id: string;
  direction: 'inbound' | 'outbound';
  from_number: string;
  to_number: string;
  status: string;
  parent_call_id: string | null;
  number_id: string | null;
  conference: string | null;
  created_at: string;
  ringing_at: string | null;
  answered_at: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  ring_seconds: number | null;
  hangup_cause: string | null;
  hangup_by: string | null;
  price_cents: number | null;
  rate_per_minute_cents: number | null;
  rate_category: string | null;
  client_request_id: string | null;
  /** JSON object of string pairs. */
  metadata: string;
  action_url: string | null;
  status_url: string | null;
  sip_call_id: string | null;
  /** While the call is live: the last time its process saw it alive (written every few seconds); what a restart bills up to. */
  alive_at: string | null;
  /** Answering machine detection's decision (SPEC §17); null when it was not asked for. */
  answered_by: string | null;
  /** The node that runs (or ran) the call (SPEC §16); null for calls written before nodes were recorded. */
  node_id: string | null;
}

export interface CallMetadataTable {
  call_id: string;
  workspace_id: string;
  key: string;
  value: string;
}

export interface CallEventsTable {
  id: string;
  call_id: string;
  /** `status` for lifecycle states, `error` for webhook and action errors. */
  kind: 'status' | 'error';
  name: string;
  /** JSON detail. */
  detail: string;
  at: string;
}

export interface RecordingsTable {
  id: string;
  workspace_id: string;
  call_id: string | null;
  conference: string | null;
  path: string;
  duration_seconds: number;
  channels: number;
  created_at: string;
  deleted_at: string | null;
}

export interface RatesTable {
  id: string;
  /** outbound (by destination prefix), inbound (by called number prefix), sip, recording. */
  category: 'outbound' | 'inbound' | 'sip' | 'recording';
  prefix: string;
  description: string;
  rate_cents_per_minute: number;
  updated_at: string;
}

export interface LedgerTransactionsTable {
  id: string;
  workspace_id: string;
  kind: 'credit' | 'call_charge' | 'recording_charge' | 'adjustment';
  /** Positive amount moved, in cents. */
  amount_cents: number;
  /** Exactly-once key, e.g. `call:<id>:<leg>`; unique. */
  posting_key: string;
  call_id: string | null;
  leg: string | null;
  reference: string | null;
  description: string;
  created_at: string;
}

/** An account's balance: the sum of its ledger entries, updated with them in one transaction. */
export interface AccountBalancesTable {
  account: string;
  balance_cents: number;
}

export interface LedgerEntriesTable {
  id: string;
  transaction_id: string;
  /** `wallet:<workspace id>`, `revenue:calls`, `revenue:recordings`, `funding:credits`. */
  account: string;
  workspace_id: string;
  /** Signed: a debit to the wallet is negative. The entries of one transaction sum to zero. */
  amount_cents: number;
  created_at: string;
}

export interface ReservationsTable {
  id: string;
  workspace_id: string;
  call_id: string;
  amount_cents: number;
  created_at: string;
  released_at: string | null;
}

export interface SettingsTable {
  workspace_id: string;
  /** JSON array of E.164 prefixes and sip: domain patterns. */
  allowed_destinations: string;
  /** JSON array of host names. */
  allowed_callback_hosts: string;
  allow_private_callbacks: number;
  daily_spend_limit_cents: number | null;
  updated_at: string;
  /** Voice callback for softphone calls of users without their own routing_url (migration 008). */
  softphone_routing_url: string | null;
}

export interface WebhookEndpointsTable {
  id: string;
  workspace_id: string;
  url: string;
  /** JSON array of event types (or ["*"]). */
  events: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  deleted_at: string | null;
}

export interface OutboxTable {
  id: string;
  workspace_id: string;
  /** Event type, e.g. call.answered. */
  type: string;
  /** The event envelope, JSON. */
  payload: string;
  /** Where to deliver: a status/callback URL, or a webhook endpoint. */
  target_url: string;
  endpoint_id: string | null;
  call_id: string | null;
  /**
   * Rows with the same key (a room's events, to one target) are delivered one
   * after another, oldest id first; null for events without an order to keep.
   */
  ordering_key: string | null;
  status: 'pending' | 'delivered' | 'failed' | 'stopped';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeliveryAttemptsTable {
  id: string;
  outbox_id: string;
  attempt: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  at: string;
}

export interface IdempotencyKeysTable {
  workspace_id: string;
  scope: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: string;
  created_at: string;
}

export interface TrunksTable {
  id: string;
  name: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  username: string | null;
  password: string | null;
  /** JSON array of E.164 prefixes routed to this trunk. */
  prefixes: string;
  /** JSON array of IP addresses and CIDR ranges whose INVITEs are inbound calls. */
  inbound_addresses: string;
  /** 0/1: REGISTER at `host` (SPEC §13). */
  register: number;
  /** Digest user name when it differs from `username` (the From user). */
  auth_username: string | null;
  /** Digest realm to answer; any when null. */
  realm: string | null;
  /** Seconds asked for in REGISTER. */
  register_expires: number;
  /** Lower first among trunks of one prefix. */
  priority: number;
  /** Seconds the trunk has to answer an INVITE (any provisional) or an OPTIONS ping. */
  answer_timeout: number;
  /** Seconds between OPTIONS pings; 0 = off. */
  options_ping: number;
  /** Country calling code for numbers written without it (`254`). */
  country_code: string;
  number_format: 'e164' | 'international' | 'national';
  tech_prefix: string | null;
  from_domain: string | null;
  /** 0/1: P-Asserted-Identity with the caller ID (RFC 3325). */
  send_pai: number;
  /** SRTP towards the trunk: off, optional or mandatory (SPEC §13). */
  srtp: 'off' | 'optional' | 'mandatory';
  created_at: string;
  updated_at: string;
}

export interface SipCredentialsTable {
  id: string;
  workspace_id: string;
  username: string;
  password: string;
  created_at: string;
  /** Voice callback for this user's outgoing calls (migration 008); null = the workspace's, else direct routing. */
  routing_url: string | null;
  /** The number presented on this user's direct calls (migration 008); null = the workspace's first number. */
  caller_id: string | null;
}

/** A softphone's binding (SPEC §13), the registrar's durable copy; one row per (aor, contact). */
export interface SipRegistrationsTable {
  aor: string;
  contact: string;
  workspace_id: string;
  /** Where requests for the binding go (the NAT source when the contact is not reachable). */
  target: string;
  source_address: string;
  source_port: number;
  transport: string;
  call_id: string;
  cseq: number;
  expires_at: string;
  q_thousandths: number;
  updated_at: string;
}

/** One node of the platform (SPEC §16), heart-beaten while it runs. */
export interface NodesTable {
  id: string;
  /** host:port where its SIP listens (what a load balancer or a peer node sends to). */
  sip_address: string;
  http_url: string;
  state: 'active' | 'draining';
  live_calls: number;
  started_at: string;
  heartbeat_at: string;
}

/** The home node of a live conference room (SPEC §16): the one node where the room's mixer runs. */
export interface RoomHomesTable {
  workspace_id: string;
  room: string;
  node_id: string;
  claimed_at: string;
}

/** One entry of a call's timeline (SPEC §14); `data` is the entry's fields as JSON. */
export interface CallTimelineTable {
  call_id: string;
  /** Microseconds since the epoch, strictly increasing in the process that wrote it: the order of a call's entries. */
  seq: number;
  at: string;
  type: string;
  data: string;
}

export interface DatabaseSchema {
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  number_inventory: NumberInventoryTable;
  numbers: NumbersTable;
  calls: CallsTable;
  call_metadata: CallMetadataTable;
  call_events: CallEventsTable;
  recordings: RecordingsTable;
  rates: RatesTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
  account_balances: AccountBalancesTable;
  reservations: ReservationsTable;
  settings: SettingsTable;
  webhook_endpoints: WebhookEndpointsTable;
  outbox: OutboxTable;
  delivery_attempts: DeliveryAttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  trunks: TrunksTable;
  sip_credentials: SipCredentialsTable;
  sip_registrations: SipRegistrationsTable;
  call_timeline: CallTimelineTable;
  nodes: NodesTable;
  room_homes: RoomHomesTable;
  /** Key/value facts about this installation (first-start done, schema notes). */
  system_state: { key: string; value: string };
}

export type Db = Kysely<DatabaseSchema>;
export type DialectName = 'sqlite' | 'postgres';
