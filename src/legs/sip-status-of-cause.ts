/**
 * The SIP status (and reason) that tells a phone why its call, or its
 * transfer, did not connect (SPEC §13): 402 no funds, 403 not allowed, 404
 * no route, 486 busy, 480 no answer, 503 shutting down or no WebRTC port; otherwise the far end's own error
 * status when there was one, else 480.
 */
export function sipStatusOfCause(cause: string, sipStatus?: number): { status: number; reason: string } {
  switch (cause) {
    case 'destination_not_allowed': return { status: 403, reason: 'Forbidden (destination not allowed)' };
    case 'caller_id_not_allowed': return { status: 403, reason: 'Forbidden (caller ID not allowed)' };
    case 'insufficient_funds': return { status: 402, reason: 'Payment Required' };
    case 'no_rate': return { status: 404, reason: 'Not Found (no rate for the destination)' };
    case 'no_route': return { status: 404, reason: 'Not Found (no route to the destination)' };
    case 'busy': return { status: 486, reason: 'Busy Here' };
    case 'canceled': return { status: 487, reason: 'Request Terminated' };
    case 'shutting_down': return { status: 503, reason: 'Service Unavailable (shutting down)' };
    case 'webrtc_ports_exhausted': return { status: 503, reason: 'Service Unavailable (no WebRTC port)' };
    default: return sipStatus !== undefined && sipStatus >= 400 ? { status: sipStatus, reason: 'Call Failed' } : { status: 480, reason: 'Temporarily Unavailable' };
  }
}
