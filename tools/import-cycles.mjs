#!/usr/bin/env node
// Import cycles and layer breaks in src/: reads every src/**/*.ts with the TypeScript parser, follows
// each relative `import ... from` / `export ... from` (type-only ones too: they tie the files' design
// together even though tsc erases them; dynamic import() is left out, it is the deliberate lazy load),
// and prints
//   - every import cycle: each strongly connected group of files, and the elementary cycles in it;
//   - every import that breaks DESIGN.md's layer table (a folder imports only from folders listed
//     above it there; files directly in src/, index.ts and version.ts, are outside the layers).
//   node tools/import-cycles.mjs          (exits 1 when it finds either)
//   node tools/import-cycles.mjs --json   ({ cycles, layerBreaks, unknownFolders } on stdout)
//   --root DIR: another tree (DIR/src, DIR/DESIGN.md)
// test/import-cycles.test.ts holds today's list of both against an allow-list.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const MAX_CYCLES_PER_GROUP = 200;

/** Every .ts file under dir (no .d.ts), as paths relative to root with '/' separators. */
function tsFiles(root, dir) {
  const out = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...tsFiles(root, p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The relative modules a file imports statically: repo-relative .ts paths. */
function importsOf(root, file) {
  const text = readFileSync(join(root, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out = new Set();
  for (const st of sf.statements) {
    if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier) continue;
    if (!ts.isStringLiteral(st.moduleSpecifier)) continue;
    const spec = st.moduleSpecifier.text;
    if (!spec.startsWith('.')) continue;
    const target = relative(root, resolve(root, dirname(file), spec))
      .split('\\')
      .join('/')
      .replace(/\.js$/, '.ts');
    out.add(target);
  }
  return [...out].sort();
}

/** Tarjan's strongly connected components with more than one file (or a file importing itself). */
function cyclicGroups(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const groups = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const g = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        g.push(w);
      } while (w !== v);
      if (g.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(g.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return groups.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The elementary cycles inside one group, each starting at its smallest file (at most MAX_CYCLES_PER_GROUP). */
function cyclesIn(graph, group) {
  const members = new Set(group);
  const cycles = [];
  for (const start of group) {
    const path = [start];
    const seen = new Set([start]);
    const walk = (v) => {
      for (const w of graph.get(v) ?? []) {
        if (cycles.length >= MAX_CYCLES_PER_GROUP || !members.has(w) || w < start) continue;
        if (w === start) cycles.push([...path, start]);
        else if (!seen.has(w)) {
          seen.add(w);
          path.push(w);
          walk(w);
          path.pop();
          seen.delete(w);
        }
      }
    };
    walk(start);
  }
  return cycles;
}

/** DESIGN.md's layer table: `src/<folder>/` rows, lowest first. */
function layerOrder(root) {
  const order = [];
  for (const line of readFileSync(join(root, 'DESIGN.md'), 'utf8').split('\n')) {
    const m = /^\| `src\/([^/`]+)\/`/.exec(line);
    if (m && !order.includes(m[1])) order.push(m[1]);
  }
  return order;
}

const folderOf = (file) => {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1] : null; // src/<folder>/...; null for files directly in src/
};

export function analyse(root) {
  const files = tsFiles(root, 'src');
  const graph = new Map(files.map((f) => [f, importsOf(root, f)]));
  const groups = cyclicGroups(graph);
  const order = layerOrder(root);
  const rank = new Map(order.map((f, i) => [f, i]));
  const layerBreaks = [];
  const unknown = new Set();
  for (const [from, targets] of graph) {
    const a = folderOf(from);
    if (a === null) continue;
    if (!rank.has(a)) unknown.add(a);
    for (const to of targets) {
      const b = folderOf(to);
      if (b === null || b === a || !rank.has(a) || !rank.has(b)) {
        if (b !== null && !rank.has(b)) unknown.add(b);
        continue;
      }
      if (rank.get(b) > rank.get(a)) layerBreaks.push(`${from} -> ${to}`);
    }
  }
  return {
    cycles: groups.map((g) => ({ files: g, cycles: cyclesIn(graph, g) })),
    layerBreaks: layerBreaks.sort(),
    unknownFolders: [...unknown].sort(),
    layers: order,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--root');
  const root = at > 0 ? resolve(process.argv[at + 1]) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const r = analyse(root);
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(r, null, 1) + '\n');
  } else {
    console.log(`layers (DESIGN.md, lowest first): ${r.layers.join(' < ')}`);
    console.log(`${r.cycles.length} import cycle group(s)`);
    for (const g of r.cycles) {
      console.log(`\n${g.files.length} files: ${g.files.join(', ')}`);
      for (const c of g.cycles) console.log(`  ${c.join(' -> ')}`);
      if (g.cycles.length >= MAX_CYCLES_PER_GROUP) console.log(`  (first ${MAX_CYCLES_PER_GROUP} cycles only)`);
    }
    console.log(`\n${r.layerBreaks.length} import(s) against the layer order`);
    for (const b of r.layerBreaks) console.log(`  ${b}`);
    if (r.unknownFolders.length) console.log(`\nfolders missing from DESIGN.md's table: ${r.unknownFolders.join(', ')}`);
  }
  process.exitCode = r.cycles.length || r.layerBreaks.length || r.unknownFolders.length ? 1 : 0;
}
