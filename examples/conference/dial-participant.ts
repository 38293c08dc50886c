/**
 * Dials a participant into a room: `node …/dial-participant.js +254733000001 meeting-99 [host]`.
 * Reads SAUTIKIT_URL, SAUTIKIT_API_KEY, SAUTIKIT_NUMBER and PUBLIC_URL (where the conference app runs).
 */
import { dialParticipant } from './server.js';
import { env, isMain } from '../shared/webhook.js';

if (isMain(import.meta.url)) {
  const [to, room = 'meeting-99', host] = process.argv.slice(2);
  if (!to) throw new Error('usage: dial-participant <to> [room] [host]');
  const call = await dialParticipant({
    sautikitUrl: env('SAUTIKIT_URL', 'http://127.0.0.1:8080'), apiKey: env('SAUTIKIT_API_KEY'), publicUrl: env('PUBLIC_URL', 'http://127.0.0.1:3000'),
    from: env('SAUTIKIT_NUMBER'), to, room, host: host === 'host',
  });
  console.log(JSON.stringify(call, null, 2));
}
