/** A small terminal progress bar for downloads (used by default when stderr is a TTY). */

export interface DownloadProgress {
  /** Repo path of the file being transferred. */
  file: string;
  fileBytes: number;
  fileTotal: number;
  /** Over all files this call downloads. */
  bytes: number;
  total: number;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Render one line: "file  [#######-------]  45%  12.3 MB / 27.0 MB". */
export function renderProgressLine(p: DownloadProgress, width = 24): string {
  const frac = p.fileTotal > 0 ? Math.min(1, p.fileBytes / p.fileTotal) : 1;
  const filled = Math.round(frac * width);
  const name = p.file.length > 30 ? `...${p.file.slice(-27)}` : p.file.padEnd(30);
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `${name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}  ${formatBytes(p.fileBytes)} / ${formatBytes(p.fileTotal)}`;
}

/**
 * Progress callback drawing on `stream` with carriage returns, at most every `intervalMs`,
 * and a final line per file.
 */
export function createTerminalProgress(
  stream: { write(s: string): unknown } = process.stderr,
  intervalMs = 100,
): (p: DownloadProgress) => void {
  let last = 0;
  let current = '';
  return (p) => {
    const done = p.fileBytes >= p.fileTotal;
    const now = Date.now();
    if (!done && p.file === current && now - last < intervalMs) return;
    last = now;
    current = p.file;
    stream.write(`\r${renderProgressLine(p)}${done ? '\n' : ''}`);
  };
}
