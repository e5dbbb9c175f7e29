// Builds the app's pages: public/src (TypeScript, CSS) → public/dist, served under /public/.
import { build } from 'esbuild';

const result = await build({
  entryPoints: ['public/src/app.ts', 'public/src/settings.ts', 'public/src/pages.css'],
  outdir: 'public/dist',
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, output]) => `${file.replace('public/dist/', '')} ${(output.bytes / 1024).toFixed(1)} KB`);
console.log(`pages built: ${sizes.join(', ')}`);
