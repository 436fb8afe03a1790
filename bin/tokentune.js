#!/usr/bin/env node
// The CLI entry point: the compiled TypeScript lives in dist/ (built by `npm install`).
import('../dist/src/cli/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    process.stderr.write(`tokentune: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
