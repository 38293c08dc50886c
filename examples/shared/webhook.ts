import express, { type RequestHandler } from 'express';
import { pathToFileURL } from 'node:url';
// Inside this repository the package is its own source; in your app: `import { verifySautikitSignature } from 'sautikit'`.
import { verifySautikitSignature } from '../../src/index.js';

/** A request whose exact bytes were kept: the signature covers the body as sent, not as re-serialised. */
interface RawBodyRequest {
  rawBody?: Buffer;
}

/** JSON and form bodies, keeping the raw bytes for the signature check. */
export function bodyParsers(): RequestHandler[] {
  const keep = (req: unknown, _res: unknown, buf: Buffer) => { (req as RawBodyRequest).rawBody = buf; };
  return [express.json({ verify: keep }), express.urlencoded({ extended: true, verify: keep })];
}

/**
 * Refuses (401) a request without a valid `Sautikit-Signature` for `secret`.
 * Without a secret it lets everything through, so the example also runs before you set one.
 */
export function requireSautikitSignature(secret: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (!secret) return next();
    const check = verifySautikitSignature((req as RawBodyRequest).rawBody ?? '', req.header('Sautikit-Signature'), secret);
    if (!check.ok) return void res.status(401).json({ error: check.reason });
    next();
  };
}

/** Calls the Sautikit REST API with the workspace key; throws on an error answer so a mistake is not silent. */
export async function sautikitApi(baseUrl: string, apiKey: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(`Sautikit ${method} ${path} → ${res.status}: ${text}`);
  return json;
}

/** True when `moduleUrl` is the script node was started with (`node …/server.js`), not an import. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(entry).href;
}

/** The environment the examples read, with local defaults. */
export function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name} (see the example's README)`);
  return value;
}
