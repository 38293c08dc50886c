import os from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Config } from './config.js';
import { defaultRetrySchedule } from './config.js';
import { ConfigError, optionTable } from './option-table.js';

export interface ConfigSources {
  /** Flag values by flag name (without the leading dashes). */
  flags?: Record<string, string | undefined>;
  env?: Record<string, string | undefined>;
  /** Path of a JSON config file (flag --config or SAUTIKIT_CONFIG). Keys are the flag names or camelCase keys. */
  file?: string;
}

/**
 * Builds the one typed config object. Precedence: flags, then SAUTIKIT_*
 * environment variables, then the config file, then defaults. Any bad value
 * throws a ConfigError naming the option.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const flags = sources.flags ?? {};
  const env = sources.env ?? {};
  const fileValues = readConfigFile(sources.file ?? flags['config'] ?? env['SAUTIKIT_CONFIG']);

  const chosen: Partial<Record<keyof Config, unknown>> = {};
  for (const spec of optionTable) {
    const fromFlag = flags[spec.flag];
    const envName = [spec.env, ...(spec.envAliases ?? [])].find((name) => env[name] !== undefined && env[name] !== '');
    const fromFile = fileValues[spec.flag] ?? fileValues[spec.key];
    if (fromFlag !== undefined) chosen[spec.key] = spec.parse(fromFlag, `--${spec.flag}`);
    else if (envName) chosen[spec.key] = spec.parse(env[envName]!, envName);
    else if (fromFile !== undefined) chosen[spec.key] = spec.parse(String(fromFile), `${spec.flag} (config file)`);
  }

  checkTlsPair(chosen.tlsCert as string | undefined, chosen.tlsKey as string | undefined);
  const rtpPorts = (chosen.rtpPorts as Config['rtpPorts'] | undefined) ?? { min: 20000, max: 29999 };
  const webrtcPorts = (chosen.webrtcPorts as Config['webrtcPorts'] | undefined) ?? { min: 30000, max: 30999 };
  // The RTP pool and werift bind their ports independently: a shared port would fail calls at random.
  if (webrtcPorts.min <= rtpPorts.max && rtpPorts.min <= webrtcPorts.max) {
    throw new ConfigError('--webrtc-ports', `${webrtcPorts.min}-${webrtcPorts.max} overlaps --rtp-ports ${rtpPorts.min}-${rtpPorts.max}`);
  }
  const host = (chosen.host as string | undefined) ?? '127.0.0.1';
  const httpPort = (chosen.httpPort as number | undefined) ?? 8080;
  const dataDir = (chosen.dataDir as string | undefined) ?? path.resolve('.sautikit');
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    httpPort,
    sipPort: (chosen.sipPort as number | undefined) ?? 5060,
    sipTlsPort: (chosen.sipTlsPort as number | undefined) ?? 5061,
    tlsCert: chosen.tlsCert as string | undefined,
    tlsKey: chosen.tlsKey as string | undefined,
    tlsCa: chosen.tlsCa as string | undefined,
    sdesOverInsecureTransport: (chosen.sdesOverInsecureTransport as boolean | undefined) ?? false,
    rtpPorts,
    webrtcPorts,
    host,
    externalAddress: chosen.externalAddress as string | undefined,
    localNetworks: (chosen.localNetworks as string[] | undefined) ?? [],
    publicUrl: (chosen.publicUrl as string | undefined) ?? `http://${urlHost}:${httpPort}`,
    dataDir,
    databaseUrl: (chosen.databaseUrl as string | undefined) ?? path.join(dataDir, 'sautikit.db'),
    sandbox: (chosen.sandbox as Config['sandbox'] | undefined) ?? 'auto',
    logLevel: (chosen.logLevel as Config['logLevel'] | undefined) ?? 'info',
    webhookRetrySchedule: (chosen.webhookRetrySchedule as number[] | undefined) ?? [...defaultRetrySchedule],
    environment: (chosen.environment as Config['environment'] | undefined) ?? 'development',
    adminKey: chosen.adminKey as string | undefined,
    apiKey: chosen.apiKey as string | undefined,
    initialCreditCents: (chosen.initialCreditCents as number | undefined) ?? 100_000,
    sipDomain: (chosen.sipDomain as string | undefined) ?? 'sip.sautikit.local',
    shutdownGraceSeconds: (chosen.shutdownGraceSeconds as number | undefined) ?? 30,
    rtpTimeoutSeconds: (chosen.rtpTimeoutSeconds as number | undefined) ?? 30,
    mediaWorkers: (chosen.mediaWorkers as number | undefined) ?? 0,
    timelineRetentionDays: (chosen.timelineRetentionDays as number | undefined) ?? 30,
    nodeId: (chosen.nodeId as string | undefined) ?? os.hostname(),
    natsUrl: chosen.natsUrl as string | undefined,
  };
}

/** Certificate and key come together, and the key must be the certificate's. */
function checkTlsPair(cert: string | undefined, key: string | undefined): void {
  if (cert === undefined && key === undefined) return;
  if (key === undefined) throw new ConfigError('--tls-key', 'is required with --tls-cert');
  if (cert === undefined) throw new ConfigError('--tls-cert', 'is required with --tls-key');
  try {
    createSecureContext({ cert: readFileSync(cert), key: readFileSync(key) });
  } catch (error) {
    throw new ConfigError('--tls-key', `does not fit the certificate in --tls-cert: ${(error as Error).message}`);
  }
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('--config', `'${file}' is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('--config', `'${file}' must hold a JSON object`);
  }
  const known = new Set(optionTable.flatMap((o) => [o.flag, o.key]));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) throw new ConfigError('--config', `unknown option '${key}' in '${file}'`);
  }
  return parsed as Record<string, unknown>;
}
