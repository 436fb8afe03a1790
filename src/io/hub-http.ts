/**
 * HTTP for the hub client, on node:http/https so redirects, headers and streaming are under our
 * control: the token is sent only to the hub's own origin (never to a CDN a redirect points to),
 * and connection failures become HubNetworkError with the token redacted.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HubNetworkError, redactSecrets } from './hub-errors.js';

export interface HubRequestOptions {
  method: 'GET' | 'HEAD';
  /** Sent as a Bearer token, only to URLs whose origin equals `authOrigin`. */
  token?: string;
  authOrigin: string;
  headers?: Record<string, string>;
  /** 'all': follow every redirect; 'relative': only same-host ones (renamed repos), as huggingface_hub does for HEAD. */
  redirects: 'all' | 'relative' | 'none';
  timeoutMs?: number;
  maxRedirects?: number;
}

export interface HubResponse {
  res: IncomingMessage;
  status: number;
  /** URL that produced `res` (after redirects). */
  url: URL;
}

export const USER_AGENT = `tokentune/0.1; node/${process.versions.node}`;

function once(url: URL, opts: HubRequestOptions): Promise<IncomingMessage> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...opts.headers };
  if (opts.token && url.origin === opts.authOrigin) headers.authorization = `Bearer ${opts.token}`;
  const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
  if (!send) return Promise.reject(new HubNetworkError(`unsupported URL scheme in ${url.protocol}//${url.host}`));
  return new Promise((resolve, reject) => {
    const req = send(url, { method: opts.method, headers }, resolve);
    // An idle socket (no bytes for timeoutMs, also while streaming the body) is a failure, not a hang.
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`no response for ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function describeNetworkError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code}${err.message && !err.message.includes(err.code) ? `: ${err.message}` : ''}` : String(err?.message ?? e);
}

/** Issue a request, following redirects per `opts.redirects`. The body is left unread. */
export async function hubRequest(urlString: string, opts: HubRequestOptions): Promise<HubResponse> {
  let url = new URL(urlString);
  const max = opts.maxRedirects ?? 10;
  for (let hop = 0; ; hop++) {
    let res: IncomingMessage;
    try {
      res = await once(url, opts);
    } catch (e) {
      throw new HubNetworkError(
        redactSecrets(
          `could not reach ${url.origin} (${describeNetworkError(e)}). If you are offline, set HF_HUB_OFFLINE=1 ` +
            'to use the local cache, or pass a local model folder instead of a hub id.',
          opts.token,
        ),
      );
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    const isRedirect = [301, 302, 303, 307, 308].includes(status) && typeof location === 'string';
    if (!isRedirect || opts.redirects === 'none') return { res, status, url };
    const relative = !/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('//');
    if (opts.redirects === 'relative' && !relative) return { res, status, url };
    if (hop >= max) {
      res.resume();
      throw new HubNetworkError(`too many redirects (more than ${max}) starting at ${new URL(urlString).origin}`);
    }
    res.resume(); // discard the redirect body so the socket can be reused
    url = new URL(location, url);
  }
}

/** Read a (small) response body as text, with a size cap. */
export async function readBody(res: IncomingMessage, limit = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > limit) {
        res.destroy();
        throw new HubNetworkError(`response body exceeds ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof HubNetworkError) throw e;
    throw new HubNetworkError(`connection lost while reading a response (${describeNetworkError(e)})`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
