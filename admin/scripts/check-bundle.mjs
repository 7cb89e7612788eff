// Fails the build when the JavaScript of the first page load is over budget (issue 7: 300 kB
// gzipped). The first load is index.html's entry chunk and every chunk it imports statically;
// lazy routes are fetched later and do not count.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

// kB as Vite prints them (1000 bytes).
const BUDGET = 300 * 1000;
const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const manifest = JSON.parse(readFileSync(path.join(dist, '.vite/manifest.json'), 'utf8'));

const entry = Object.values(manifest).find((chunk) => chunk.isEntry);
if (!entry) throw new Error('no entry chunk in the Vite manifest');
const files = new Set();
const visit = (chunk) => {
  if (files.has(chunk.file)) return;
  files.add(chunk.file);
  for (const key of chunk.imports ?? []) visit(manifest[key]);
};
visit(entry);

const gzipped = (file) => gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
let total = 0;
for (const file of files) total += gzipped(file);
const lazy = Object.values(manifest).filter((chunk) => chunk.file.endsWith('.js') && !files.has(chunk.file));
const lazyTotal = lazy.reduce((sum, chunk) => sum + gzipped(chunk.file), 0);
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
console.log(
  `first-load JS: ${kb(total)} gzipped in ${files.size} file(s) (budget ${kb(BUDGET)}); ` +
    `${lazy.length} lazy chunk(s): ${kb(lazyTotal)} gzipped`,
);
if (total > BUDGET) {
  console.error(`first-load JS is over budget by ${kb(total - BUDGET)}`);
  process.exit(1);
}
