/**
 * The codes a call's record carries (SPEC §4, §9): why it ended
 * (`hangup_cause`) and what went wrong while it ran (`errors[].code`, the
 * `call.error` event). Like the REST error catalogue, each code has one entry
 * here and one in docs/calls.md, and a test keeps the two in step; code that
 * ends a call or records an error can only name a code that is listed.
 */
interface CallCodeEntry {
  /** What the code means, as docs/calls.md says it. */
  summary: string;
}

export const hangupCauses = {
  normal_clearing: { summary: 'The call ended normally: a party hung up, or the actions ran out after the answer.' },
  busy: { summary: 'The called party was busy (SIP 486/600).' },
  no_answer: { summary: 'Nobody answered before the ring timeout (or the far end answered 408, 480 or 487).' },
  canceled: { summary: 'The call was given up before it was answered: the caller hung up while it rang, or a `dial` was aborted.' },
  rejected: { summary: 'The call was refused by a `reject` action with `reason: "rejected"` (SIP 603 to the caller).' },
  failed: { summary: 'The far end or the network refused the call with another SIP error (603 Decline among them), or the dialog broke; `events` hold the SIP status.' },
  no_ack: { summary: 'The far end never acknowledged our answer (no ACK within 32 s, RFC 3261 §13.3.1.4).' },
  media_timeout: { summary: 'No RTP came from the far end for `--rtp-timeout` seconds, so the platform hung up (a carrier that dropped the call without a BYE).' },
  session_expired: { summary: 'The far end agreed to refresh the session (RFC 4028 session timer) and did not, so the platform hung up before the session expired.' },
  media_failed: { summary: 'The media worker thread carrying the call died; the call was hung up and billed to that moment.' },
  no_actions: { summary: 'The voice callback answered no usable actions before the call was answered.' },
  no_routing_url: { summary: 'The number called has no `routing_url`, so nobody could tell the platform what to do.' },
  api_hangup: { summary: 'Hung up through the API (`PATCH /v1/calls/{id}` with `status: "completed"`).' },
  kicked: { summary: 'Removed from a conference through the API, which ends the participant\'s call.' },
  answered_elsewhere: { summary: 'A leg of a `dial` to several targets that rang while another target answered first.' },
  transferred: { summary: 'The party hung up by the platform after its blind transfer (SIP REFER) connected the other party to the Refer-To target.' },
  time_limit: { summary: 'The call reached its `time_limit` (or the dial\'s `timeLimit`).' },
  insufficient_funds: { summary: 'The wallet could not cover the call: refused at the start, or cut one second before the balance would go below zero.' },
  destination_not_allowed: { summary: 'A `dial` target did not match the workspace\'s `allowed_destinations`.' },
  no_rate: { summary: 'No rate in the rate table covers the destination.' },
  no_route: { summary: 'No trunk or sandbox reaches the destination, or the softphone dialled is not registered.' },
  sdp_not_acceptable: { summary: 'The caller offered no codec the platform speaks (PCMU, PCMA or L16), or an unusable SDP; or, for a call without an SDP offer (late offer), its ACK brought no usable answer.' },
  platform_restart: { summary: 'The platform was killed (SIGKILL, power loss) while the call was live; at the next start the call was ended, billed up to the last time it was seen alive (at most 5 s before the crash).' },
  node_failed: { summary: 'The node running the call stopped heart-beating for 15 s (killed, its machine or network down); a peer node ended the call, billed up to the last time it was seen alive.' },
  shutdown: { summary: 'The platform stopped (SIGTERM) and the shutdown grace period ran out before the call ended.' },
  webrtc_ports_exhausted: { summary: 'A browser agent\'s call could not get a UDP port for its WebRTC media: every port of `--webrtc-ports` was taken.' },
  shutting_down: { summary: 'The call was accepted by the API just before shutdown began, and was not placed.' },
} as const satisfies Record<string, CallCodeEntry>;

export type HangupCause = keyof typeof hangupCauses;

export const callErrorCodes = {
  invalid_actions: { summary: 'The voice callback answered actions that do not parse; `action_index` and `field` name the problem.' },
  unknown_action_field: { summary: 'A warning, not an error: an action the voice callback answered has a field the platform does not know (a typo such as `numDigit` for `numDigits`); the field was ignored and the action ran. `action_index`, `action` and `field` name it, and `severity` is `warning`.' },
  webhook_timeout: { summary: 'The voice callback did not answer within 10 s.' },
  webhook_unreachable: { summary: 'The voice callback could not be reached (DNS, refused connection, TLS).' },
  webhook_http_error: { summary: 'The voice callback answered an HTTP status other than 2xx.' },
  webhook_invalid_response: { summary: 'The voice callback answered a body that is neither JSON nor XML actions.' },
  webhook_not_allowed: { summary: 'The voice callback URL is refused by the callback policy (private address, host not allowed).' },
  webhook_response_too_large: { summary: 'The voice callback answered more than 1 MiB.' },
  fetch_not_allowed: { summary: 'A URL the call\'s actions asked the platform to fetch (`play`, a conference `waitUrl`, `stream`) is refused by the workspace\'s fetch policy, on the URL as written, after DNS, or on a redirect.' },
  play_failed: { summary: 'A `play` URL could not be fetched or decoded (HTTP error, timeout, not WAV or MP3).' },
  tts_failed: { summary: 'Speech synthesis of a `say` failed.' },
  no_routing_url: { summary: 'The number called has no `routing_url`; set one with `PATCH /v1/numbers/{id}`.' },
  insufficient_funds: { summary: 'A leg was not placed: the wallet could not cover its first minute.' },
  destination_not_allowed: { summary: 'A leg was not placed: its destination is outside `allowed_destinations`.' },
  no_rate: { summary: 'A leg was not placed: no rate covers its destination.' },
  no_route: { summary: 'A leg was not placed: no trunk or sandbox reaches it, or the softphone is not registered.' },
  sdp_not_acceptable: { summary: 'The caller\'s SDP offer had no usable codec or could not be parsed, or (late offer: an INVITE without SDP) the ACK carried no usable SDP answer to ours.' },
  shutting_down: { summary: 'A call accepted just before shutdown was not placed.' },
  webrtc_ports_exhausted: { summary: 'A leg to or from a browser agent was not placed: every port of `--webrtc-ports` was taken.' },
  caller_id_not_allowed: { summary: 'A `dial` asked for a `callerId` that is not a number the workspace has claimed (nor a `sip:` URI of its own domain); nothing was dialled and `DialCallStatus` is `failed`.' },
  conference_unreachable: { summary: 'A `conference` room lives on another node of the platform (SPEC §16) and the call could not be joined to it there (that node did not answer, or refused the internal leg); the call did not enter the room and its action list went on.' },
  internal_error: { summary: 'The call could not continue because of a platform bug; the server log has the details under the call id.' },
} as const satisfies Record<string, CallCodeEntry>;

export type CallErrorCode = keyof typeof callErrorCodes;

/** Whether `code` is one of the call error codes (an `AppError` code turned into a call's error). */
export function isCallErrorCode(code: string): code is CallErrorCode {
  return Object.hasOwn(callErrorCodes, code);
}

/** Whether `code` is one of the hang-up causes. */
export function isHangupCause(code: string): code is HangupCause {
  return Object.hasOwn(hangupCauses, code);
}
