import type { Logger } from '../shared/log.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { TimelineWriter } from '../store/timeline-writer.js';
import type { Wallet } from '../billing/wallet.js';
import type { CallEngine } from '../engine/call-engine.js';
import type { TrunkSupervisor } from '../engine/trunk-supervisor.js';
import type { SandboxCarrier } from '../sandbox/sandbox-carrier.js';
import type { LiveCallRouter } from './live/live-call-router.js';

/** A source address banned from SIP for failed authentication (SPEC §13); times in ms since epoch. */
export interface SipBanView {
  address: string;
  bannedAt: number;
  expiresAt: number;
  failures: number;
}

/** The SIP ban list as the admin API sees it (the node's in-memory `SourceBans`). */
export interface SipBanList {
  list(): SipBanView[];
  /** False when the address was not banned. */
  lift(address: string): boolean;
}

/** What the HTTP routes are given; they never touch sockets or the media path. */
export interface ApiContext {
  store: Store;
  /** Calls' timelines: flushed before a read so it shows what just happened. */
  timeline: TimelineWriter;
  wallet: Wallet;
  /** Places calls and controls live ones. */
  engine: CallEngine;
  /** Where a request about a live call, room or sandbox call is carried out: here, or on the node holding it (SPEC §16). */
  liveCalls: LiveCallRouter;
  /** Trunks' registrations and OPTIONS health; `reload()` after a trunk changes. */
  trunks: Pick<TrunkSupervisor, 'statusOf' | 'reload'>;
  /** Parent domain of the workspaces' SIP domains. */
  sipDomain: string;
  /** Where softphones send REGISTER and calls. */
  sipAddress: { host: string; port: number };
  /** Sources banned from SIP on this node. */
  sipBans: SipBanList;
  /** The sandbox carrier, when it runs. */
  sandbox: SandboxCarrier | undefined;
  clock: Clock;
  logger: Logger;
  /** How links in responses refer back to this server. */
  publicUrl: string;
  /** New workspaces allow private callback addresses (development) or not (production). */
  allowPrivateCallbacksByDefault: boolean;
  /** Tells the webhook deliverer that deliveries are due now. */
  wakeDeliverer(): void;
  /** Whether API, SIP and media are all ready (GET /healthz). */
  readiness(): { ready: boolean; draining: boolean; components: Record<string, boolean> };
}
