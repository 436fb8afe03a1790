import { readFileSync } from 'node:fs';

/**
 * The package's version, written once: package.json's "version", read at run time from two folders
 * above this module (dist/src/version.js in the repository and in an installed package alike).
 */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
