import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `<data>/server.json`: where the server started on that data folder answers,
 * written by `sautikit start` once it listens and removed when it stops, so
 * `sautikit call` and `calls` on the same machine find a server on any port.
 */
export interface ServerFile {
  /** The REST API's base URL, reachable from this machine. */
  url: string;
  pid: number;
  started_at: string;
}

export function serverFilePath(dataDir: string): string {
  return path.join(dataDir, 'server.json');
}

/** A bind-everything address is reached on loopback from this machine. */
export function localUrlOf(httpUrl: string): string {
  return httpUrl.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:');
}

export function writeServerFile(dataDir: string, httpUrl: string, now: Date): void {
  const file: ServerFile = { url: localUrlOf(httpUrl), pid: process.pid, started_at: now.toISOString() };
  writeFileSync(serverFilePath(dataDir), `${JSON.stringify(file, null, 2)}\n`);
}

/** Removes the file if this process wrote it (another server may have started on the folder since). */
export function removeServerFile(dataDir: string): void {
  if (readServerFile(dataDir)?.pid === process.pid) rmSync(serverFilePath(dataDir), { force: true });
}

/** The file, when present, readable, and written by a process that still runs. */
export function readServerFile(dataDir: string): ServerFile | undefined {
  let file: ServerFile;
  try {
    file = JSON.parse(readFileSync(serverFilePath(dataDir), 'utf8')) as ServerFile;
  } catch {
    return undefined;
  }
  if (typeof file.url !== 'string' || !Number.isInteger(file.pid)) return undefined;
  try {
    process.kill(file.pid, 0);
  } catch (error) {
    // EPERM: running, as another user; ESRCH: gone (a crash left the file behind).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return file;
}
