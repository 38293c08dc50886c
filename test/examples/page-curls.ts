/**
 * Every curl of the five product pages, verbatim (/work/shared/seeds). The
 * replay changes only the base URL (https://api.sautikit.com → the local
 * server) and fills the placeholders the pages leave to the reader
 * ({number_id}, $CALL_ID); $SAUTIKIT_API_KEY comes from the environment.
 */
export const PAGE_BASE_URL = 'https://api.sautikit.com';

export const pageCurls = {
  /** 000, "Place an outbound campaign call". */
  callCenterCampaign: String.raw`curl -X POST "https://api.sautikit.com/v1/calls" \
  -H "Authorization: Bearer $SAUTIKIT_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "to":         "+254711222333",
    "from":       "+254700000001",
    "action_url": "https://yourapp.example.com/calls/outbound-answer",
    "status_url": "https://yourapp.example.com/calls/outbound-status"
  }'`,
  /** 001, dialling the agent into the room. */
  conferenceCenterOriginate: String.raw`curl -s -X POST "https://api.sautikit.com/v1/calls/originate" \
-H "Authorization: Bearer $SAUTIKIT_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"to": "+254722111111",
"from": "+254700000001",
"voice_callback_url": "https://ivr.example.com/agent-voice?room=support-queue-001"
}'`,
  /** 001, retrieving the conference recording. */
  conferenceCenterRecording: String.raw`curl -s -L \
"https://api.sautikit.com/v1/calls/$CALL_ID/recording" \
-H "Authorization: Bearer $SAUTIKIT_API_KEY" \
-o conference-recording.wav`,
  /** 001, "List recent calls" (piped into jq '.[] | {id, direction, status, duration_seconds}'). */
  conferenceCenterList: String.raw`curl -s "https://api.sautikit.com/v1/calls?limit=5" \
-H "Authorization: Bearer $SAUTIKIT_API_KEY"`,
  /** 002, "Place the outbound call". */
  aiOutboundCall: String.raw`curl -X POST "https://api.sautikit.com/v1/calls" \
  -H "Authorization: Bearer $SAUTIKIT_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{"to":["+254712345678"],"from":"+254711000001","clientRequestId":"lead-42"}'`,
  /** 003, "Dial a participant into the room outbound". */
  conferenceDialParticipant: String.raw`curl -X POST "https://api.sautikit.com/v1/calls" \
  -H "Authorization: Bearer $SAUTIKIT_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "to":         "+254733000001",
    "from":       "+254700000001",
    "action_url": "https://yourapp.example.com/conference/join?room=meeting-99"
  }'`,
  /** 004, setting the routing_url. */
  ivrRoutingUrl: String.raw`curl -X PATCH "https://api.sautikit.com/v1/numbers/{number_id}" \
-H "Authorization: Bearer $SAUTIKIT_API_KEY" \
-H "Content-Type: application/json" \
-d '{"routing_url": "https://yourapp.example.com/ivr/welcome"}'`,
} as const;

/** The jq filter of page 001, `.[] | {id, direction, status, duration_seconds}`, in TypeScript. */
export function jqCallSummary(calls: unknown): Array<{ id: unknown; direction: unknown; status: unknown; duration_seconds: unknown }> {
  if (!Array.isArray(calls)) throw new Error('jq: Cannot iterate over a non-array');
  return calls.map((c: Record<string, unknown>) => ({ id: c.id ?? null, direction: c.direction ?? null, status: c.status ?? null, duration_seconds: c.duration_seconds ?? null }));
}
