/**
 * Errors of the hub client. Messages say what the user can do (set HF_TOKEN, use
 * HF_HUB_OFFLINE=1, pass a local folder) and never contain the token.
 */

export class HubError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubError';
  }
}

export class RepoNotFoundError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'RepoNotFoundError';
  }
}

export class RevisionNotFoundError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'RevisionNotFoundError';
  }
}

export class EntryNotFoundError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'EntryNotFoundError';
  }
}

/** 401/403: private or gated repository, or a token without access. */
export class HubAuthError extends HubError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HubAuthError';
  }
}

/** Any other unexpected HTTP status. */
export class HubHttpError extends HubError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HubHttpError';
  }
}

/** The hub could not be reached (DNS, refused, reset, timeout, interrupted transfer). */
export class HubNetworkError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'HubNetworkError';
  }
}

/** Offline mode and the cache lacks what was asked for. */
export class OfflineCacheMissError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'OfflineCacheMissError';
  }
}

/** A download finished with the wrong size or hash. */
export class DownloadIntegrityError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadIntegrityError';
  }
}

/** Replace the token (and anything shaped like a hub token) with '***'. */
export function redactSecrets(text: string, token?: string): string {
  let out = text;
  if (token && token.length > 0) out = out.split(token).join('***');
  return out.replace(/\bhf_[A-Za-z0-9]{8,}\b/g, 'hf_***');
}
