#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { ConfigError, optionTable } from '../config/option-table.js';
import { helpText } from './help-text.js';
import { runCall } from './call-command.js';
import { runCalls } from './calls-command.js';
import { runStart } from './start-command.js';

/** Commands that talk to a running server; each parses its own options. */
const clientCommands: Record<string, (argv: string[]) => Promise<number>> = { call: runCall, calls: runCalls };

/**
 * The `sautikit` command. With no command it prints the help (SPEC §12:
 * `sautikit start` runs the platform, `npm start` does that). Bad options
 * end with one line naming the option and exit code 2.
 */
async function main(argv: string[]): Promise<void> {
  const client = argv[0] === undefined ? undefined : clientCommands[argv[0]];
  if (client) {
    process.exitCode = await client(argv.slice(1));
    return;
  }
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-') && first !== 'start' && first !== 'help') {
    process.stderr.write(`sautikit: unknown command '${first}'; commands: start, call, calls, help (see sautikit --help)\n`);
    process.exitCode = 2;
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
  const command = parsed.positionals[0];
  if (parsed.values['help'] || command === 'help' || argv.length === 0) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (parsed.values['version']) {
    process.stdout.write('sautikit 0.1.0\n');
    return;
  }
  if (command === undefined) {
    process.stderr.write('sautikit: no command given; to run the platform with these options: sautikit start … (see sautikit --help)\n');
    process.exitCode = 2;
    return;
  }
  if (command !== 'start' || parsed.positionals.length > 1) {
    process.stderr.write(`sautikit: unknown command '${parsed.positionals.join(' ')}'; commands: start, call, calls, help (see sautikit --help)\n`);
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

// Output piped into a reader that stops early (`sautikit calls list | head -1`): exit quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`sautikit: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
