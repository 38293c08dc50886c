import { describe, expect, it } from 'vitest';
import { checkCallbackUrl, isNonPublicAddress } from '../../src/shared/callback-url-policy.js';
import { isDestinationAllowed, isValidDestinationPattern } from '../../src/shared/destination-policy.js';
import { parseE164, parseSipTarget } from '../../src/shared/phone-number.js';

describe('destination authorisation', () => {
  it('allows E.164 numbers under an allowed prefix only', () => {
    expect(isDestinationAllowed('+254712345678', ['+254'])).toBe(true);
    expect(isDestinationAllowed('254712345678', ['+254'])).toBe(true);
    expect(isDestinationAllowed('+255712345678', ['+254'])).toBe(false);
    expect(isDestinationAllowed('+14155550100', ['+254', '+1'])).toBe(true);
    expect(isDestinationAllowed('+254712345678', ['+25471'])).toBe(true);
    expect(isDestinationAllowed('+254733345678', ['+25471'])).toBe(false);
    expect(isDestinationAllowed('+254712345678', [])).toBe(false);
  });

  it('matches sip: URIs against domain and user patterns', () => {
    expect(isDestinationAllowed('sip:agent@pbx.example.com', ['+254'])).toBe(false);
    expect(isDestinationAllowed('sip:agent@pbx.example.com', ['sip:*@pbx.example.com'])).toBe(true);
    expect(isDestinationAllowed('sip:agent@pbx.example.com', ['sip:pbx.example.com'])).toBe(true);
    expect(isDestinationAllowed('sip:agent@evil.example.com', ['sip:pbx.example.com'])).toBe(false);
    expect(isDestinationAllowed('sip:agent@a.pbx.example.com', ['sip:*.pbx.example.com'])).toBe(true);
    expect(isDestinationAllowed('sip:agent@notpbx.example.com', ['sip:*.pbx.example.com'])).toBe(false);
    expect(isDestinationAllowed('sip:bob@pbx.example.com', ['sip:agent@pbx.example.com'])).toBe(false);
    expect(isDestinationAllowed('sip:anyone@anywhere.test', ['sip:*'])).toBe(true);
    expect(isDestinationAllowed('sip:anyone@anywhere.test', ['*'])).toBe(true);
    expect(isDestinationAllowed('not a destination', ['+'])).toBe(false);
  });

  it('validates allow-list entries', () => {
    for (const ok of ['+254', '+', '*', 'sip:*', 'sip:pbx.example.com', 'sip:*@pbx.example.com', 'sip:*.example.com', 'sip:agent@pbx.example.com']) {
      expect(isValidDestinationPattern(ok)).toBe(true);
    }
    for (const bad of ['254', 'kenya', '+25a', 'http://x', 'sip:', '']) expect(isValidDestinationPattern(bad)).toBe(false);
  });
});

describe('callback URL checks', () => {
  const open = { allowedCallbackHosts: [], allowPrivateCallbacks: false };

  it('accepts public http(s) URLs and keeps the query string', () => {
    expect(checkCallbackUrl('https://yourapp.example.com/ivr/welcome?x=1', open, 'routing_url').search).toBe('?x=1');
  });

  it('refuses other schemes, credentials and hosts outside the allow-list', () => {
    expect(() => checkCallbackUrl('ftp://x.example.com/', open, 'routing_url')).toThrow(expect.objectContaining({ code: 'callback_url_not_allowed', field: 'routing_url' }));
    expect(() => checkCallbackUrl('https://u:p@x.example.com/', open, 'status_url')).toThrow(expect.objectContaining({ code: 'callback_url_not_allowed', field: 'status_url' }));
    expect(() => checkCallbackUrl('not a url', open, 'action_url')).toThrow(expect.objectContaining({ code: 'validation_failed' }));
    const listed = { allowedCallbackHosts: ['hooks.example.com', '*.acme.co.ke'], allowPrivateCallbacks: false };
    expect(() => checkCallbackUrl('https://hooks.example.com/a', listed, 'f')).not.toThrow();
    expect(() => checkCallbackUrl('https://ivr.acme.co.ke/a', listed, 'f')).not.toThrow();
    expect(() => checkCallbackUrl('https://evil.example.com/a', listed, 'f')).toThrow(expect.objectContaining({ code: 'callback_url_not_allowed' }));
  });

  it('refuses loopback, private and link-local addresses unless allowed', () => {
    for (const url of ['http://127.0.0.1:3000/x', 'http://localhost/x', 'http://10.1.2.3/', 'http://192.168.1.10/', 'http://172.20.0.5/', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:8080/', 'http://[fd00::1]/', 'http://[::ffff:127.0.0.1]/', 'http://0.0.0.0/']) {
      expect(() => checkCallbackUrl(url, open, 'routing_url'), url).toThrow(expect.objectContaining({ code: 'callback_url_not_allowed' }));
      expect(() => checkCallbackUrl(url, { ...open, allowPrivateCallbacks: true }, 'routing_url'), url).not.toThrow();
    }
  });

  it('classifies resolved addresses for the connect-time check', () => {
    expect(isNonPublicAddress('8.8.8.8')).toBe(false);
    expect(isNonPublicAddress('41.90.64.1')).toBe(false);
    expect(isNonPublicAddress('2001:4860:4860::8888')).toBe(false);
    expect(isNonPublicAddress('100.64.0.1')).toBe(true);
    expect(isNonPublicAddress('10.0.0.1')).toBe(true);
  });
});

describe('phone numbers', () => {
  it('parseE164() normalises pasted numbers and refuses junk', () => {
    expect(parseE164('+254 712 345-678')).toBe('+254712345678');
    expect(parseE164('254712345678')).toBe('+254712345678');
    expect(parseE164('+0712345678')).toBeUndefined();
    expect(parseE164('07123')).toBeUndefined();
    expect(parseE164('sip:a@b')).toBeUndefined();
  });

  it('parseSipTarget() reads user and host', () => {
    expect(parseSipTarget('sip:agent@pbx.example.com:5080;transport=tcp')).toMatchObject({ user: 'agent', host: 'pbx.example.com' });
    expect(parseSipTarget('sip:pbx.example.com')).toMatchObject({ user: undefined, host: 'pbx.example.com' });
    expect(parseSipTarget('http://x')).toBeUndefined();
  });
});
