/**
 * Every start option: its flag, its SAUTIKIT_* variable, its file key, its
 * default and its parser. `sautikit --help` is generated from this table so
 * the help text can never drift from what is accepted.
 */
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAddressOrCidr } from '../shared/address-list.js';
import type { Config } from './config.js';
import { defaultRetrySchedule } from './config.js';

export class ConfigError extends Error {
  constructor(readonly option: string, message: string) {
    super(`invalid ${option}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  /** Extra environment names accepted, e.g. DATABASE_URL. */
  envAliases?: string[];
  help: string;
  defaultText: string;
  /** Parses a string (from a flag, the environment or a file) into the typed value. */
  parse(raw: string, option: string): unknown;
}

function port(raw: string, option: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(option, `'${raw}' is not a port number (0-65535)`);
  }
  return n;
}

function portRange(raw: string, option: string): { min: number; max: number } {
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(raw.trim());
  if (!m) throw new ConfigError(option, `'${raw}' is not a range like 20000-29999`);
  const min = port(m[1]!, option);
  const max = port(m[2]!, option);
  if (min < 1024 || max <= min || max - min < 3) {
    throw new ConfigError(option, `'${raw}' must be an ascending range above 1023 holding at least two RTP/RTCP pairs`);
  }
  return { min, max };
}

function bool(raw: string, option: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(option, `'${raw}' is not a boolean (true/false)`);
}

/** `text` as a URL, or the option's error naming `raw`. */
function parseUrl(text: string, raw: string, option: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new ConfigError(option, `'${raw}' is not a URL`);
  }
}

function url(raw: string, option: string): string {
  const u = parseUrl(raw, raw, option);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(option, `'${raw}' must be http(s)`);
  return raw.replace(/\/+$/, '');
}

/** A PEM file holding a block of `label` (`CERTIFICATE`, `PRIVATE KEY`); answers its absolute path. */
function pemFile(label: string): (raw: string, option: string) => string {
  return (raw, option) => {
    const file = path.resolve(raw.trim());
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(option, `cannot read '${raw}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    // Matches `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY` for keys.
    if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) throw new ConfigError(option, `'${raw}' holds no PEM ${label}`);
    return file;
  };
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const optionTable: OptionSpec[] = [
  { key: 'httpPort', flag: 'http-port', env: 'SAUTIKIT_HTTP_PORT', help: 'HTTP port of the REST API and console', defaultText: '8080', parse: port },
  { key: 'sipPort', flag: 'sip-port', env: 'SAUTIKIT_SIP_PORT', help: 'SIP port, UDP and TCP', defaultText: '5060', parse: port },
  {
    key: 'sipTlsPort', flag: 'sip-tls-port', env: 'SAUTIKIT_SIP_TLS_PORT', help: 'SIP over TLS port (listens only with --tls-cert and --tls-key)', defaultText: '5061', parse: port,
  },
  { key: 'tlsCert', flag: 'tls-cert', env: 'SAUTIKIT_TLS_CERT', help: 'PEM certificate (chain) for SIP over TLS', defaultText: 'none (no TLS)', parse: pemFile('CERTIFICATE') },
  { key: 'tlsKey', flag: 'tls-key', env: 'SAUTIKIT_TLS_KEY', help: 'PEM private key of --tls-cert', defaultText: 'none (no TLS)', parse: pemFile('PRIVATE KEY') },
  {
    key: 'tlsCa', flag: 'tls-ca', env: 'SAUTIKIT_TLS_CA', help: 'PEM CA certificates trusted besides the system ones when connecting to TLS trunks',
    defaultText: 'system CAs only', parse: pemFile('CERTIFICATE'),
  },
  {
    key: 'sdesOverInsecureTransport', flag: 'sdes-over-insecure-transport', env: 'SAUTIKIT_SDES_OVER_INSECURE_TRANSPORT',
    help: 'accept and send SRTP keys (SDES a=crypto) in SDP over SIP on UDP/TCP, where anyone on the path can read them (true/false)',
    defaultText: 'false (SDES over TLS only; RTP/SAVP over UDP/TCP gets 488)', parse: bool,
  },
  { key: 'rtpPorts', flag: 'rtp-ports', env: 'SAUTIKIT_RTP_PORTS', help: 'RTP port range', defaultText: '20000-29999', parse: portRange },
  {
    key: 'webrtcPorts', flag: 'webrtc-ports', env: 'SAUTIKIT_WEBRTC_PORTS',
    help: 'UDP port range of browser legs\' WebRTC media (ICE/DTLS-SRTP), apart from --rtp-ports', defaultText: '30000-30999', parse: portRange,
  },
  {
    key: 'host', flag: 'host', env: 'SAUTIKIT_HOST', help: 'bind address for HTTP, SIP and RTP', defaultText: '127.0.0.1',
    parse: (raw, option) => {
      if (!/^[A-Za-z0-9.:-]+$/.test(raw.trim())) throw new ConfigError(option, `'${raw}' is not a host name or IP address`);
      return raw.trim();
    },
  },
  {
    key: 'externalAddress', flag: 'external-address', env: 'SAUTIKIT_EXTERNAL_ADDRESS',
    help: 'address (IP or host name) put in Via, Contact and SDP for peers outside --local-networks, e.g. the public IP of the NAT in front of this server',
    defaultText: 'the bind address; for 0.0.0.0/:: the first non-loopback interface address',
    parse: (raw, option) => {
      const v = raw.trim().replace(/^\[(.*)\]$/, '$1');
      if (isIP(v) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(v)) {
        throw new ConfigError(option, `'${raw}' is not an IP address or host name`);
      }
      if (v === '0.0.0.0' || v === '::') throw new ConfigError(option, `'${raw}' is a wildcard; give the address peers can reach`);
      return v;
    },
  },
  {
    key: 'localNetworks', flag: 'local-networks', env: 'SAUTIKIT_LOCAL_NETWORKS',
    help: 'comma-separated CIDR ranges whose peers are given the local (bind) address instead of --external-address; loopback always is',
    defaultText: 'loopback only',
    parse: (raw, option) => {
      const entries = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const bad = entries.find((entry) => !isAddressOrCidr(entry));
      if (bad !== undefined) throw new ConfigError(option, `'${bad}' is not an IP address or CIDR range`);
      return entries;
    },
  },
  { key: 'publicUrl', flag: 'public-url', env: 'SAUTIKIT_PUBLIC_URL', help: 'how webhooks and recordings refer back to this server', defaultText: 'http://<host>:<http-port>', parse: url },
  { key: 'dataDir', flag: 'data', env: 'SAUTIKIT_DATA', help: 'data folder (SQLite, recordings, credentials)', defaultText: './.sautikit', parse: (raw) => path.resolve(raw) },
  {
    key: 'databaseUrl', flag: 'database-url', env: 'SAUTIKIT_DATABASE_URL', envAliases: ['DATABASE_URL'],
    help: 'postgres://… for PostgreSQL, or a SQLite file path', defaultText: '<data>/sautikit.db',
    parse: (raw, option) => {
      const v = raw.trim();
      if (v === '') throw new ConfigError(option, 'is empty');
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !/^postgres(ql)?:\/\//i.test(v) && !/^sqlite:\/\//i.test(v)) {
        throw new ConfigError(option, `'${v}' is neither postgres:// nor a SQLite path`);
      }
      return v;
    },
  },
  {
    key: 'sandbox', flag: 'sandbox', env: 'SAUTIKIT_SANDBOX', help: 'run the built-in sandbox carrier (true/false/auto)', defaultText: 'auto (on unless trunks are configured)',
    parse: (raw, option) => (raw.trim().toLowerCase() === 'auto' ? 'auto' : bool(raw, option)),
  },
  {
    key: 'logLevel', flag: 'log-level', env: 'SAUTIKIT_LOG_LEVEL', help: `log level (${logLevels.join('|')})`, defaultText: 'info',
    parse: (raw, option) => {
      const v = raw.trim().toLowerCase();
      if (!logLevels.includes(v)) throw new ConfigError(option, `'${raw}' is not one of ${logLevels.join(', ')}`);
      return v;
    },
  },
  {
    key: 'webhookRetrySchedule', flag: 'webhook-retry-schedule', env: 'SAUTIKIT_WEBHOOK_RETRY_SCHEDULE',
    help: 'seconds before each of the 8 webhook delivery attempts', defaultText: defaultRetrySchedule.join(','),
    parse: (raw, option) => {
      const parts = raw.split(',').map((s) => s.trim());
      const values = parts.map(Number);
      if (parts.length !== 8 || values.some((v, i) => parts[i] === '' || !Number.isFinite(v) || v < 0)) {
        throw new ConfigError(option, `'${raw}' must be 8 comma-separated non-negative numbers of seconds`);
      }
      return values;
    },
  },
  {
    key: 'environment', flag: 'env', env: 'SAUTIKIT_ENV', help: 'development|production (production refuses private callback addresses by default)', defaultText: 'development',
    parse: (raw, option) => {
      const v = raw.trim().toLowerCase();
      if (v !== 'development' && v !== 'production') throw new ConfigError(option, `'${raw}' is not development or production`);
      return v;
    },
  },
  { key: 'adminKey', flag: 'admin-key', env: 'SAUTIKIT_ADMIN_KEY', help: 'admin key to use on first start', defaultText: 'random', parse: (raw, option) => secretKey(raw, option) },
  { key: 'apiKey', flag: 'api-key', env: 'SAUTIKIT_API_KEY', help: 'first workspace API key to use on first start', defaultText: 'random', parse: (raw, option) => secretKey(raw, option) },
  {
    key: 'initialCreditCents', flag: 'initial-credit', env: 'SAUTIKIT_INITIAL_CREDIT', help: 'KES credited to the first workspace on first start', defaultText: '1000.00',
    parse: (raw, option) => {
      if (!/^\d+(\.\d{1,2})?$/.test(raw.trim())) throw new ConfigError(option, `'${raw}' is not an amount like 1000.00`);
      return Math.round(Number(raw.trim()) * 100);
    },
  },
  {
    key: 'sipDomain', flag: 'sip-domain', env: 'SAUTIKIT_SIP_DOMAIN', help: 'parent domain of the workspaces\' SIP domains (softphones register as user@<workspace>.<sip-domain>)',
    defaultText: 'sip.sautikit.local',
    parse: (raw, option) => {
      const v = raw.trim().toLowerCase();
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(v)) throw new ConfigError(option, `'${raw}' is not a domain name`);
      return v;
    },
  },
  {
    key: 'shutdownGraceSeconds', flag: 'shutdown-grace', env: 'SAUTIKIT_SHUTDOWN_GRACE', help: 'seconds running calls may go on after SIGTERM', defaultText: '30',
    parse: (raw, option) => {
      const n = Number(raw);
      if (!/^\d+$/.test(raw.trim()) || n > 3600) throw new ConfigError(option, `'${raw}' is not a whole number of seconds (0-3600)`);
      return n;
    },
  },
  {
    key: 'rtpTimeoutSeconds', flag: 'rtp-timeout', env: 'SAUTIKIT_RTP_TIMEOUT',
    help: 'seconds without RTP from the far end before a call is hung up (media_timeout); 0 never', defaultText: '30',
    parse: (raw, option) => {
      const n = Number(raw);
      if (!/^\d+$/.test(raw.trim()) || n > 86_400) throw new ConfigError(option, `'${raw}' is not a whole number of seconds (0-86400)`);
      return n;
    },
  },
  {
    key: 'mediaWorkers', flag: 'media-workers', env: 'SAUTIKIT_MEDIA_WORKERS',
    help: 'worker threads for call media; 0 keeps media on the main thread, auto = one per core', defaultText: '0',
    parse: (raw, option) => {
      const v = raw.trim().toLowerCase();
      if (v === 'auto') return os.availableParallelism();
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 256) throw new ConfigError(option, `'${raw}' is not auto or a number of threads (0-256)`);
      return n;
    },
  },
  {
    key: 'timelineRetentionDays', flag: 'timeline-retention-days', env: 'SAUTIKIT_TIMELINE_RETENTION_DAYS',
    help: 'days a call\'s timeline is kept (GET /v1/calls/{id}/timeline)', defaultText: '30',
    parse: (raw, option) => {
      const n = Number(raw);
      if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 3650) throw new ConfigError(option, `'${raw}' is not a whole number of days (1-3650)`);
      return n;
    },
  },
  {
    key: 'nodeId', flag: 'node-id', env: 'SAUTIKIT_NODE_ID', help: 'this node\'s name among several nodes of one platform (SPEC §16)', defaultText: 'the host name',
    parse: (raw, option) => {
      const v = raw.trim();
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v)) throw new ConfigError(option, `'${raw}' must be 1-63 letters, digits, '.', '_' or '-'`);
      return v;
    },
  },
  {
    key: 'natsUrl', flag: 'nats-url', env: 'SAUTIKIT_NATS_URL',
    help: 'NATS server (nats://host:port) through which several nodes on one PostgreSQL database reach each other\'s live calls', defaultText: 'none (a single node)',
    parse: (raw, option) => {
      const u = parseUrl(raw.trim(), raw, option);
      if (u.protocol !== 'nats:' && u.protocol !== 'tls:') throw new ConfigError(option, `'${raw}' must be nats://host:port (or tls://)`);
      return raw.trim();
    },
  },
];

function secretKey(raw: string, option: string): string {
  const v = raw.trim();
  if (v.length < 16 || /\s/.test(v)) throw new ConfigError(option, 'must be at least 16 characters without spaces');
  return v;
}
