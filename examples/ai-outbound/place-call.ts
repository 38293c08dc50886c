/**
 * Step 1 of the page: place the outbound call. `node …/place-call.js +254712345678 lead-42`
 * (SAUTIKIT_URL, SAUTIKIT_API_KEY, SAUTIKIT_NUMBER). On answer Sautikit fetches
 * the from number's routing_url, which must be this app's /ai/answer.
 */
import { env, isMain, sautikitApi } from '../shared/webhook.js';

export async function placeLeadCall(input: { sautikitUrl: string; apiKey: string; to: string; from: string; clientRequestId: string }): Promise<Array<{ id: string; status: string; client_request_id: string }>> {
  // The page's curl body: `to` as an array (one call per entry, answered as an array) and the idempotency key.
  return sautikitApi(input.sautikitUrl, input.apiKey, 'POST', '/v1/calls', { to: [input.to], from: input.from, clientRequestId: input.clientRequestId });
}

if (isMain(import.meta.url)) {
  const [to = '+254712345678', clientRequestId = 'lead-42'] = process.argv.slice(2);
  const calls = await placeLeadCall({ sautikitUrl: env('SAUTIKIT_URL', 'http://127.0.0.1:8080'), apiKey: env('SAUTIKIT_API_KEY'), to, from: env('SAUTIKIT_NUMBER'), clientRequestId });
  console.log(JSON.stringify(calls, null, 2));
}
