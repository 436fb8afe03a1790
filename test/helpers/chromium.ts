/**
 * Headless Chromium for page tests: Debian's `chromium` package driven by playwright-core (an
 * optional dependency, typed here so that tsc does not need it). `chromiumSkip` is the reason to
 * skip when either is missing.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The little of playwright-core these tests use. */
export interface PwPage {
  on(event: string, fn: (x: any) => void): void;
  goto(url: string): Promise<unknown>;
  title(): Promise<string>;
  fill(sel: string, text: string): Promise<void>;
  click(sel: string): Promise<void>;
  selectOption(sel: string, value: string): Promise<unknown>;
  waitForSelector(sel: string): Promise<unknown>;
  evaluate(expr: string): Promise<unknown>;
  textContent(sel: string): Promise<string | null>;
  screenshot(o: { path: string; fullPage?: boolean }): Promise<unknown>;
}
export interface PwBrowser {
  newPage(o?: object): Promise<PwPage>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: { launch(o: { executablePath: string; headless: boolean; args: string[] }): Promise<PwBrowser> };
}

async function loadPlaywright(): Promise<Playwright | null> {
  const name = 'playwright-core'; // a variable: tsc must not need the package to compile this file
  try {
    return (await import(name)) as Playwright;
  } catch {
    return null;
  }
}
const pw = await loadPlaywright();

export const chromiumSkip: string | false = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is absent (apt-get install -y chromium)`
  : !pw
    ? 'playwright-core is not installed'
    : false;

export function launchChromium(): Promise<PwBrowser> {
  if (!pw) throw new Error(chromiumSkip || 'playwright-core is not installed');
  return pw.chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/**
 * Polls a page expression through DevTools evaluation. (Playwright's waitForFunction evaluates its
 * predicate with eval inside the page, which a page's Content-Security-Policy may forbid.)
 */
export async function waitUntil(page: PwPage, expr: string, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expr))) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${expr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
