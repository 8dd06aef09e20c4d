// Bundles `baton ui`'s page (src/web/page/, browser code) into dist/web/assets/ with esbuild: one script,
// one style sheet and an icon, served by the package itself (no CDN). Type-checked separately
// (tsc -p src/web/page/tsconfig.json).
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const page = fileURLToPath(new URL('../src/web/page/', import.meta.url));
const out = fileURLToPath(new URL('../dist/web/assets/', import.meta.url));
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [`${page}app.ts`, `${page}app.css`],
  outdir: out,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
await copyFile(`${page}icon.svg`, `${out}icon.svg`);
const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, o]) => `${file.split('/').pop()} ${(o.bytes / 1024).toFixed(0)} KiB`);
console.log(`web page: ${out} (${sizes.join(', ')})`);
