import { optionTable } from '../config/option-table.js';

/** `sautikit --help`, generated from the option table so it lists exactly what is accepted. */
export function helpText(): string {
  const width = Math.max(...optionTable.map((o) => o.flag.length)) + 10;
  const lines = [
    'Usage: sautikit <command> [options]',
    '',
    'Commands:',
    '  start            run the platform (REST API, SIP, RTP, webhooks); `npm start` runs it',
    '  call             place a sandbox call into a running server and print what happened:',
    '                   sautikit call --to NUMBER [--from NUMBER] [--press DIGITS] [--wait SECONDS]',
    '                   [--max-duration SECONDS] [--url URL] [--api-key KEY] [--json]',
    '  calls list       recent calls of your workspace (--limit N)',
    '  calls show ID    a call with its timeline: every webhook request and answer, action, digit, leg, error',
    '  help             show this help; `sautikit <command> --help` shows a command\'s',
    '',
    'call and calls find the server at --url or SAUTIKIT_URL, else the server started on the data folder',
    '(<data>/server.json, --data or SAUTIKIT_DATA, default ./.sautikit), else http://127.0.0.1:8080; and the',
    'API key in --api-key, SAUTIKIT_API_KEY or <data>/credentials.json.',
    '',
    'Options of start (each also an environment variable):',
  ];
  for (const o of optionTable) {
    lines.push(`  --${o.flag} <value>`.padEnd(width + 4) + `${o.help}`);
    lines.push(' '.repeat(width + 4) + `env ${[o.env, ...(o.envAliases ?? [])].join(', ')}; default ${o.defaultText}`);
  }
  lines.push(`  --config <file>`.padEnd(width + 4) + 'JSON file with any of the options above (env SAUTIKIT_CONFIG)');
  lines.push('', 'Precedence: flags, then environment variables, then the config file, then defaults.');
  return lines.join('\n');
}
