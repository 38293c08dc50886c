import { parseArgs } from 'node:util';
import { formatCall, formatCallList, formatTimeline, type CallView, type TimelineEntryView } from './call-format.js';
import { CliFailure, ServerClient, serverOptions, serverOptionsHelp } from './server-client.js';

export const callsHelp = [
  'Usage: sautikit calls list [--limit N] [--json] [server options]',
  '       sautikit calls show CALL_ID [--json] [server options]',
  '',
  'Calls of your workspace on a running server.',
  '  list             recent calls, newest first: id, time, direction, from, to, status, duration, price',
  '  show CALL_ID     the call record and its timeline (every webhook request and answer, action, digit, leg, error)',
  '',
  'Options:',
  '  --limit N        how many calls list shows (1-1000; default 20)',
  '  --json           print what the API answers, unformatted',
  ...serverOptionsHelp,
].join('\n');

/** `sautikit calls list|show`. Exit codes: 0 done, 1 the server refused or could not be reached, 2 bad usage. */
export async function runCalls(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { ...serverOptions, limit: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    }));
  } catch (error) {
    err.write(`sautikit calls: ${(error as Error).message.split('\n')[0]}\n(see sautikit calls --help)\n`);
    return 2;
  }
  const [sub, ...rest] = positionals;
  if (values['help'] || sub === undefined || sub === 'help') {
    (values['help'] || sub === 'help' ? out : err).write(`${callsHelp}\n`);
    return values['help'] || sub === 'help' ? 0 : 2;
  }
  try {
    if (sub === 'list') {
      if (rest.length > 0) throw new CliFailure(`calls list takes no argument (got '${rest[0]}')`, 2);
      const limit = values['limit'] === undefined ? 20 : Number(values['limit']);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliFailure(`invalid --limit: '${String(values['limit'])}' is not a whole number from 1 to 1000`, 2);
      const client = ServerClient.fromOptions(values);
      const calls = await client.get<CallView[]>(`/v1/calls?limit=${limit}`);
      out.write(values['json'] ? `${JSON.stringify(calls, null, 2)}\n` : calls.length === 0 ? '(no calls yet)\n' : `${formatCallList(calls)}\n`);
      return 0;
    }
    if (sub === 'show') {
      const [id, extra] = rest;
      if (!id) throw new CliFailure('calls show needs a call id (sautikit calls list shows them)', 2);
      if (extra !== undefined) throw new CliFailure(`calls show takes one call id (got '${extra}' too)`, 2);
      const client = ServerClient.fromOptions(values);
      const path = `/v1/calls/${encodeURIComponent(id)}`;
      const [call, timeline] = await Promise.all([client.get<CallView>(path), client.get<{ data: TimelineEntryView[] }>(`${path}/timeline`)]);
      if (values['json']) out.write(`${JSON.stringify({ call, timeline: timeline.data }, null, 2)}\n`);
      else out.write(`${formatCall(call)}\n\ntimeline (UTC)\n${formatTimeline(timeline.data)}\n`);
      return 0;
    }
    throw new CliFailure(`unknown calls command '${sub}' (list or show; see sautikit calls --help)`, 2);
  } catch (error) {
    if (!(error instanceof CliFailure)) throw error;
    err.write(`sautikit calls: ${error.message}\n`);
    return error.exitCode;
  }
}
