import type { Logger } from '../shared/log.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { TimelineWriter } from '../store/timeline-writer.js';
import type { Wallet } from '../billing/wallet.js';
import type { CallEngine } from '../engine/call-engine.js';
import type { SandboxCarrier } from '../sandbox/sandbox-carrier.js';

/** What the HTTP routes are given; they never touch sockets or the media path. */
export interface ApiContext {
  store: Store;
  /** Calls' timelines: flushed before a read so it shows what just happened. */
  timeline: TimelineWriter;
  wallet: Wallet;
  /** Places calls and controls live ones. */
  engine: CallEngine;
  /** Parent domain of the workspaces' SIP domains. */
  sipDomain: string;
  /** Where softphones send REGISTER and calls. */
  sipAddress: { host: string; port: number };
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
