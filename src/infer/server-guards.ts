/**
 * The server's checks on who may talk to it, kept apart from the request handling:
 * - Content-Type must be application/json on POST, so a cross-site form or text/plain POST
 *   (which browsers send without a preflight) is refused before any work is done;
 * - Host must name the address the client connected to (or localhost on loopback, or an
 *   allow-listed name), which defeats DNS rebinding: a page on evil.example that re-points its
 *   name at 127.0.0.1 still sends Host: evil.example;
 * - CORS headers only for the origins the operator named, and a foreign Origin on a POST is refused.
 */
import type http from 'node:http';

/** A client error: the status and the reason sent back as {"error": reason}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The client hung up: nothing to answer, nothing to log. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/** Errors that mean the peer went away (not a server fault). */
export function isClientGone(e: unknown): boolean {
  if (e instanceof ClientGoneError) return true;
  const err = e as NodeJS.ErrnoException | undefined;
  return (
    err?.code === 'ECONNRESET' ||
    err?.code === 'EPIPE' ||
    err?.code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    err?.message === 'aborted' ||
    err?.name === 'AbortError'
  );
}

/** Refuses a body that is not declared application/json (UTF-8). */
export function checkJsonContentType(req: http.IncomingMessage): void {
  const raw = req.headers['content-type'];
  const fix = "send the header 'Content-Type: application/json'";
  if (!raw) throw new HttpError(415, `missing Content-Type: ${fix}`);
  const [type, ...params] = raw.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json') throw new HttpError(415, `Content-Type is ${JSON.stringify(raw.slice(0, 100))}; ${fix}`);
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k === 'charset' && v !== 'utf-8' && v !== 'utf8')
      throw new HttpError(415, `charset ${JSON.stringify(v)} is not supported; send UTF-8`);
  }
}

/** Host header -> [hostname, port] (hostname lower-cased, IPv6 without brackets). */
export function splitHost(host: string): [string, number | null] | null {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(host.trim());
  if (!m) return null;
  return [(m[1] ?? m[2]!).toLowerCase(), m[3] === undefined ? null : Number(m[3])];
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

function plainAddress(a: string | undefined): string {
  return (a ?? '').toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

function isLoopback(a: string): boolean {
  return a === '::1' || a.startsWith('127.');
}

export interface HostPolicy {
  /** Extra names accepted in Host ('name' for any port, 'name:port' for one); '*' accepts any. */
  allowedHosts?: readonly string[];
}

/** Whether the Host header names this server as the client reached it. */
export function hostAllowed(req: http.IncomingMessage, policy: HostPolicy): boolean {
  const allow = policy.allowedHosts ?? [];
  if (allow.includes('*')) return true;
  const header = req.headers.host;
  if (!header) return false;
  const parsed = splitHost(header);
  if (!parsed) return false;
  const [name, port] = parsed;
  const local = plainAddress(req.socket.localAddress);
  const localPort = req.socket.localPort;
  const samePort = port === localPort || (port === null && localPort === 80);
  if (samePort && (name === local || (isLoopback(local) && LOOPBACK_NAMES.has(name)))) return true;
  return allow.some((a) => {
    const p = splitHost(a);
    return p !== null && p[0] === name && (p[1] === null || p[1] === (port ?? 80));
  });
}

export interface CorsPolicy {
  /** Origins that may call the API from a browser ('*': any); none by default. */
  corsOrigins?: readonly string[];
}

/**
 * CORS headers for this request's Origin, or null when the origin is foreign and not allowed.
 * Same-origin requests (Origin equal to http://HOST) and requests without Origin get {}.
 */
export function corsHeaders(req: http.IncomingMessage, policy: CorsPolicy): Record<string, string> | null {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  const list = policy.corsOrigins ?? [];
  if (list.includes('*')) return { 'Access-Control-Allow-Origin': '*' };
  if (list.includes(origin)) return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  const host = req.headers.host;
  if (host && (origin === `http://${host}` || origin === `https://${host}`)) return {};
  return null;
}
