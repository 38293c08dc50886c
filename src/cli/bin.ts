#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { ConfigError, optionTable } from '../config/option-table.js';
import { helpText } from './help-text.js';
import { runCall } from './call-command.js';
import { runStart } from './start-command.js';

/** The `sautikit` command. Bad options end with one line naming the option and exit code 2. */
async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'call') {
    process.exitCode = await runCall(argv.slice(1));
    return;
  }
  const options: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' }, help: { type: 'boolean' }, version: { type: 'boolean' } };
  for (const o of optionTable) options[o.flag] = { type: 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`sautikit: ${(error as Error).message.split('\n')[0]}\n(see sautikit --help)\n`);
    process.exitCode = 2;
    return;
  }
  const command = parsed.positionals[0] ?? 'start';
  if (parsed.values['help'] || command === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (parsed.values['version']) {
    process.stdout.write('sautikit 0.1.0\n');
    return;
  }
  if (command !== 'start') {
    process.stderr.write(`sautikit: unknown command '${command}' (see sautikit --help)\n`);
    process.exitCode = 2;
    return;
  }
  let config;
  try {
    const flags = Object.fromEntries(Object.entries(parsed.values).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    config = loadConfig({ flags, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sautikit: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  await runStart(config);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`sautikit: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
