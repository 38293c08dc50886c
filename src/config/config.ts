import type { LevelWithSilent } from 'pino';

/** The whole runtime configuration, validated at start-up (SPEC §12). */
export interface Config {
  /** HTTP port of the REST API and console. Default 8080. */
  httpPort: number;
  /** SIP port (UDP and TCP). Default 5060. */
  sipPort: number;
  /** SIP over TLS port; listened on only when `tlsCert` and `tlsKey` are set. Default 5061. */
  sipTlsPort: number;
  /** Path of the PEM certificate (chain) for SIP over TLS; without it (and `tlsKey`) there is no TLS listener. */
  tlsCert: string | undefined;
  /** Path of the PEM private key of `tlsCert`. */
  tlsKey: string | undefined;
  /**
   * Path of PEM CA certificates trusted, besides the system CAs, for TLS
   * connections we open to trunks (a lab carrier's self-signed certificate).
   * The certificate is always verified; there is no switch to skip that.
   */
  tlsCa: string | undefined;
  /**
   * Let SRTP keys (SDES `a=crypto`) travel in SDP over SIP on UDP and TCP.
   * Default false: an RTP/SAVP offer over a plain transport gets 488 and
   * trunks with `srtp` get keys only over TLS (SPEC §13, docs/security.md).
   */
  sdesOverInsecureTransport: boolean;
  /** RTP port range, inclusive. Default 20000-29999. */
  rtpPorts: { min: number; max: number };
  /**
   * UDP ports of browser legs' WebRTC media (ICE/DTLS-SRTP), inclusive: a range of
   * its own because werift binds them itself, outside the RTP port pool. Default 30000-30999.
   */
  webrtcPorts: { min: number; max: number };
  /** Bind address for HTTP, SIP and RTP. Default 127.0.0.1. */
  host: string;
  /**
   * The address (IP or host name) written in Via, Contact and SDP `o=`/`c=`
   * for peers outside `localNetworks`: the public address of a NAT in front
   * of the server. Default (undefined): the bind address, or for a wildcard
   * bind the first non-loopback interface address (SPEC §13).
   */
  externalAddress: string | undefined;
  /** CIDR ranges whose peers get the local address instead of `externalAddress`; loopback always does. Default []. */
  localNetworks: string[];
  /** How webhooks and recordings refer back to this server. Default http://<host>:<httpPort>. */
  publicUrl: string;
  /** Data folder for SQLite, recordings and credentials. Default ./.sautikit. */
  dataDir: string;
  /** `postgres://…` for PostgreSQL; otherwise a SQLite file path. Default <data>/sautikit.db. */
  databaseUrl: string;
  /** Run the built-in sandbox carrier. Default: on unless trunks are configured. */
  sandbox: boolean | 'auto';
  logLevel: LevelWithSilent;
  /** Seconds before each of the 8 webhook delivery attempts. */
  webhookRetrySchedule: number[];
  /** `development` allows private callback addresses for new workspaces; `production` does not. */
  environment: 'development' | 'production';
  /** Admin key to use on first start instead of a random one (SAUTIKIT_ADMIN_KEY). */
  adminKey: string | undefined;
  /** First workspace API key to use on first start instead of a random one (SAUTIKIT_API_KEY). */
  apiKey: string | undefined;
  /** Sandbox balance credited to the first workspace on first start, in cents. Default 100000 (KES 1,000.00). */
  initialCreditCents: number;
  /** Parent domain of the workspaces' SIP domains: softphones register as user@<workspace>.<sipDomain>. Default sip.sautikit.local. */
  sipDomain: string;
  /** Seconds that running calls may continue after SIGTERM before they are hung up. Default 30. */
  shutdownGraceSeconds: number;
  /**
   * Seconds without RTP from the far end after which a call is hung up
   * (`hangup_cause: "media_timeout"`, a BYE to the far end): a carrier that
   * dropped the call without a BYE must not leave it open and billed. 0 never
   * hangs up. Default 30.
   */
  rtpTimeoutSeconds: number;
  /**
   * Worker threads that carry call media (RTP, prompts, mixing), one
   * `MediaEngine` each; 0 keeps media on the main thread. `auto` in a flag
   * or file means one per core. Default 0: one process handles the benched
   * load on the main thread with lower latency, and workers add a message
   * hop per command (docs/architecture.md, "Media on worker threads").
   */
  mediaWorkers: number;
  /** Days a call's timeline (`GET /v1/calls/{id}/timeline`) is kept before the periodic purge removes it. Default 30 (SPEC §14). */
  timelineRetentionDays: number;
  /** This node's id among several (SPEC §16), written on its calls and heartbeat. Default the host name. */
  nodeId: string;
  /** NATS server joining several nodes on one PostgreSQL database (SPEC §16); undefined for a single node. */
  natsUrl: string | undefined;
}

export const defaultRetrySchedule = [0, 30, 120, 600, 1800, 3600, 10800, 21600];
