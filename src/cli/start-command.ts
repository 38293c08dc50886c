import path from 'node:path';
import type { Config } from '../config/config.js';
import { startPlatform, type Platform } from '../main.js';
import { createLogger } from '../shared/log.js';
import { localUrlOf, removeServerFile, serverFilePath, writeServerFile } from './server-file.js';

/** Runs the platform until SIGTERM or SIGINT, printing where it can be reached. */
export async function runStart(config: Config, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const logger = createLogger(config.logLevel, process.stderr);
  let platform: Platform;
  try {
    platform = await startPlatform(config, { logger });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    const reason = err.code === 'EADDRINUSE' ? `port already in use (${err.message})` : err.message;
    out.write(`sautikit: could not start: ${reason}\n`);
    process.exitCode = 1;
    return;
  }
  const credentialsFile = path.join(config.dataDir, 'credentials.json');
  // sautikit call / calls run in this data folder's parent find this server through it, on any port.
  writeServerFile(config.dataDir, platform.httpUrl, new Date());
  const localUrl = localUrlOf(platform.httpUrl);
  const lines = [
    '',
    `Sautikit is running (database: ${platform.store.dialect})`,
    `  REST API   ${platform.publicUrl}/v1   (OpenAPI: ${platform.publicUrl}/v1/openapi.json)`,
    `  Health     ${platform.publicUrl}/healthz`,
    `  SIP        sip:${platform.sipAddress.host}:${platform.sipAddress.port} (UDP and TCP)`,
    // With --tls-cert/--tls-key the TLS listener is the address phones are told to use: say where it is.
    ...(platform.sipTlsAddress ? [`  SIP TLS    sip:${platform.sipTlsAddress.host}:${platform.sipTlsAddress.port};transport=tls`] : []),
    `  Sandbox    ${platform.sandbox ? 'on: try  sautikit call --to <your number>' : 'off (trunks configured)'}`,
    `  Data       ${config.dataDir}`,
    `  CLI        sautikit call and calls find this server through ${serverFilePath(config.dataDir)};`,
    `             from another folder or machine: export SAUTIKIT_URL=${localUrl}`,
  ];
  if (platform.credentials) {
    lines.push(
      '',
      'First start: credentials written to ' + credentialsFile,
      `  Admin key       ${platform.credentials.admin_key}`,
      `  Workspace       ${platform.credentials.workspace_id}`,
      `  API key         ${platform.credentials.api_key}`,
      `  Signing secret  ${platform.credentials.signing_secret}`,
      '',
      'Try it:',
      `  export SAUTIKIT_URL=${localUrl}`,
      `  export SAUTIKIT_API_KEY=${platform.credentials.api_key}`,
      '  curl -s $SAUTIKIT_URL/v1/wallet -H "Authorization: Bearer $SAUTIKIT_API_KEY"',
    );
  } else {
    lines.push(`  Credentials ${credentialsFile}`);
  }
  out.write(`${lines.join('\n')}\n\n`);

  await new Promise<void>((resolve) => {
    const finished = (error?: unknown): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      removeServerFile(config.dataDir);
      if (error !== undefined) {
        logger.error({ err: error }, 'error while stopping');
        process.exitCode = 1;
      }
      resolve();
    };
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      // Its outcome is heard through `stopped`.
      platform.close(config.shutdownGraceSeconds * 1000).catch(() => {});
    };
    // Stopped by a signal, or by a drain request through the API (SPEC §16: the node drains, then exits 0).
    platform.stopped.then(() => finished(), (error: unknown) => finished(error ?? new Error('stop failed')));
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
