import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError, optionTable } from '../../src/config/option-table.js';

describe('loadConfig', () => {
  it('has the defaults of SPEC §12', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      httpPort: 8080, sipPort: 5060, rtpPorts: { min: 20000, max: 29999 }, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:8080',
      sandbox: 'auto', logLevel: 'info', webhookRetrySchedule: [0, 30, 120, 600, 1800, 3600, 10800, 21600], environment: 'development',
    });
    expect(config.dataDir).toBe(path.resolve('.sautikit'));
    expect(config.databaseUrl).toBe(path.join(path.resolve('.sautikit'), 'sautikit.db'));
  });

  it('hangs up calls after 30 s without RTP unless --rtp-timeout says otherwise (0: never)', () => {
    expect(loadConfig({ env: {} }).rtpTimeoutSeconds).toBe(30);
    expect(loadConfig({ env: { SAUTIKIT_RTP_TIMEOUT: '0' } }).rtpTimeoutSeconds).toBe(0);
    expect(loadConfig({ env: {}, flags: { 'rtp-timeout': '120' } }).rtpTimeoutSeconds).toBe(120);
    expect(() => loadConfig({ env: { SAUTIKIT_RTP_TIMEOUT: '-1' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { SAUTIKIT_RTP_TIMEOUT: '2.5' } })).toThrow(ConfigError);
  });

  it('gives browser legs\' WebRTC media --webrtc-ports (default 30000-30999), refusing a range that overlaps --rtp-ports', () => {
    expect(loadConfig({ env: {} }).webrtcPorts).toEqual({ min: 30000, max: 30999 });
    expect(loadConfig({ env: { SAUTIKIT_WEBRTC_PORTS: '40000-40099' } }).webrtcPorts).toEqual({ min: 40000, max: 40099 });
    expect(() => loadConfig({ env: {}, flags: { 'webrtc-ports': '29990-30100' } })).toThrow(/29990-30100 overlaps --rtp-ports 20000-29999/);
    expect(() => loadConfig({ env: {}, flags: { 'webrtc-ports': 'many' } })).toThrow(ConfigError);
  });

  it('takes --external-address (IP or host name) and --local-networks (CIDRs), refusing wildcards and bad ranges', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ externalAddress: undefined, localNetworks: [] });
    expect(loadConfig({ env: { SAUTIKIT_EXTERNAL_ADDRESS: '203.0.113.10' } }).externalAddress).toBe('203.0.113.10');
    expect(loadConfig({ env: {}, flags: { 'external-address': 'voice.example.com' } }).externalAddress).toBe('voice.example.com');
    expect(loadConfig({ env: {}, flags: { 'external-address': '[2001:db8::1]' } }).externalAddress).toBe('2001:db8::1');
    expect(() => loadConfig({ env: { SAUTIKIT_EXTERNAL_ADDRESS: '0.0.0.0' } })).toThrow(/wildcard/);
    expect(() => loadConfig({ env: { SAUTIKIT_EXTERNAL_ADDRESS: 'http://x' } })).toThrow(ConfigError);
    expect(loadConfig({ env: { SAUTIKIT_LOCAL_NETWORKS: '10.0.0.0/8, 192.168.1.0/24,fd00::/8' } }).localNetworks).toEqual(['10.0.0.0/8', '192.168.1.0/24', 'fd00::/8']);
    expect(() => loadConfig({ env: { SAUTIKIT_LOCAL_NETWORKS: '10.0.0.0/33' } })).toThrow(/'10\.0\.0\.0\/33' is not an IP address or CIDR range/);
  });

  it('docs/configuration.md has one row per option, with its variable', () => {
    const doc = readFileSync(path.join(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
    const rows = doc.split('\n').filter((line) => line.startsWith('| `--'));
    expect(rows).toHaveLength(optionTable.length);
    for (const spec of optionTable) {
      const row = rows.find((line) => line.startsWith(`| \`--${spec.flag}\` |`));
      expect(row, `--${spec.flag}`).toBeDefined();
      expect(row).toContain(`\`${spec.env}\``);
    }
  });

  it('takes flags over SAUTIKIT_* variables over the config file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const file = path.join(dir, 'sautikit.json');
    writeFileSync(file, JSON.stringify({ 'http-port': 9000, sipPort: 5070, 'log-level': 'debug' }));
    const config = loadConfig({ file, env: { SAUTIKIT_SIP_PORT: '5080', SAUTIKIT_HTTP_PORT: '9001' }, flags: { 'http-port': '9002' } });
    expect(config).toMatchObject({ httpPort: 9002, sipPort: 5080, logLevel: 'debug' });
  });

  it('reads DATABASE_URL and the retry schedule', () => {
    const config = loadConfig({ env: { DATABASE_URL: 'postgres://u@db/sautikit', SAUTIKIT_WEBHOOK_RETRY_SCHEDULE: '0,1,1,1,1,1,1,1' } });
    expect(config.databaseUrl).toBe('postgres://u@db/sautikit');
    expect(config.webhookRetrySchedule).toEqual([0, 1, 1, 1, 1, 1, 1, 1]);
  });

  it.each([
    [{ flags: { 'http-port': 'abc' } }, "invalid --http-port: 'abc' is not a port number"],
    [{ env: { SAUTIKIT_SIP_PORT: '70000' } }, 'invalid SAUTIKIT_SIP_PORT'],
    [{ env: { SAUTIKIT_RTP_PORTS: '30000-20000' } }, 'invalid SAUTIKIT_RTP_PORTS'],
    [{ env: { SAUTIKIT_WEBHOOK_RETRY_SCHEDULE: '0,1,2' } }, 'invalid SAUTIKIT_WEBHOOK_RETRY_SCHEDULE'],
    [{ env: { SAUTIKIT_LOG_LEVEL: 'loud' } }, 'invalid SAUTIKIT_LOG_LEVEL'],
    [{ env: { SAUTIKIT_DATABASE_URL: 'mysql://x' } }, 'invalid SAUTIKIT_DATABASE_URL'],
    [{ env: { SAUTIKIT_ADMIN_KEY: 'short' } }, 'invalid SAUTIKIT_ADMIN_KEY'],
    [{ flags: { 'public-url': 'ftp://x' } }, 'invalid --public-url'],
    [{ file: '/nonexistent/sautikit.json' }, 'invalid --config'],
  ])('refuses a bad value, naming the option: %j', (sources, message) => {
    expect(() => loadConfig({ env: {}, ...sources })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, ...sources })).toThrow(message);
  });

  it('refuses unknown keys in the config file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ 'http-prot': 1 }));
    expect(() => loadConfig({ env: {}, file })).toThrow("unknown option 'http-prot'");
  });
});
