import { readFileSync } from 'node:fs';

/**
 * A host name that this machine's /etc/hosts maps to a loopback address and
 * that the fetch policy's URL check does not know by name (not `localhost`,
 * not `*.localhost`), so only the check after DNS resolution can refuse it.
 * Undefined when /etc/hosts has none (then the tests that need one skip).
 */
export function loopbackNameFromHosts(): string | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/hosts', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || !/^127\.\d+\.\d+\.\d+$/.test(address)) continue;
    const name = names.find((n) => /^[a-z0-9][a-z0-9.-]*$/i.test(n) && n.toLowerCase() !== 'localhost' && !n.toLowerCase().endsWith('.localhost'));
    if (name) return name;
  }
  return undefined;
}
