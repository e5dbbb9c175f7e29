// Builds the app's pages: Vue + Bitrix24's UI kit (public/src) → public/dist, served under /public/.
// Fixed file names (app.js, settings.js, pages.css, chunks/…): the HTML in public/ names them and is
// served with no-store; the Content-Security-Policy allows only files from us, so nothing is inlined.
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import bitrix24UI from '@bitrix24/b24ui-nuxt/vite';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = fileURLToPath(new URL('../public/', import.meta.url));
const result = await build({
  root,
  configFile: false,
  logLevel: 'warn',
  base: '/public/',
  plugins: [
    vue(),
    bitrix24UI({
      // no vue-router: the pages are single views in the portal's frame
      router: false,
      dts: false,
      // the theme follows the portal (public/src/theme.ts), never one a previous visit stored: the
      // kit's color-mode plugin reads localStorage even with no storage key, which a frame may refuse
      colorMode: false,
      // only the components the pages use get their theme classes into pages.css
      experimental: { componentDetection: true },
      // no Markdown content: the prose components (and the animation library one of them pulls in) stay out
      prose: false,
      mdc: false,
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    modulePreload: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: { app: `${root}src/app.ts`, settings: `${root}src/settings.ts`, install: `${root}src/install.ts` },
      output: {
        entryFileNames: '[name].js',
        chunkFileNames: 'chunks/[name]-[hash].js',
        assetFileNames: (asset) => (asset.names?.[0]?.endsWith('.css') ? 'pages.css' : 'assets/[name]-[hash][extname]'),
      },
    },
  },
});

// What each page makes the browser download before its first view shows: its entry, the chunks
// that entry imports statically and the one stylesheet; views imported lazily (import()) are
// listed apart, each with what it adds. The budget is for the first view, gzip.
const BUDGET_GZIP = 250 * 1024;
const PAGES = {
  '/app': { entry: 'app.js', stylesheet: true },
  '/placement/:code': { entry: 'settings.js', stylesheet: true },
  '/install': { entry: 'install.js', stylesheet: false },
};
const output = (Array.isArray(result) ? result[0] : result).output;
const byName = new Map(output.map((file) => [file.fileName, file]));
const bytesOf = (file) => (file.type === 'chunk' ? file.code : file.source);
const sizes = (files) => ({
  count: files.length,
  raw: files.reduce((sum, file) => sum + Buffer.byteLength(bytesOf(file)), 0),
  gzip: files.reduce((sum, file) => sum + gzipSync(bytesOf(file)).length, 0),
});
const staticClosure = (name, seen = new Set()) => {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const imported of byName.get(name)?.imports ?? []) staticClosure(imported, seen);
  return seen;
};
const lazyEntries = (names) => [...new Set([...names].flatMap((name) => byName.get(name)?.dynamicImports ?? []))].filter((name) => !names.has(name));
const css = output.find((file) => file.fileName === 'pages.css');
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const describe = ({ count, raw, gzip }) => `${count} files, ${kb(raw)} (${kb(gzip)} gzip)`;
const over = [];
for (const [page, { entry, stylesheet }] of Object.entries(PAGES)) {
  const start = staticClosure(entry);
  const first = sizes([...[...start].map((name) => byName.get(name)), ...(css && stylesheet ? [css] : [])]);
  if (first.gzip > BUDGET_GZIP) over.push(`${page}: ${kb(first.gzip)} gzip at start, over the budget of ${kb(BUDGET_GZIP)}`);
  console.log(`${page} at start: ${describe(first)}, budget ${kb(BUDGET_GZIP)} gzip`);
  for (const lazy of lazyEntries(start)) {
    const added = [...staticClosure(lazy)].filter((name) => !start.has(name)).map((name) => byName.get(name));
    const view = byName.get(lazy)?.facadeModuleId?.split('/').pop()?.replace(/\?.*$/, '') ?? lazy;
    console.log(`  on demand, ${view}: +${describe(sizes(added))}`);
  }
}
if (over.length > 0) {
  console.error(`pages over budget:\n  ${over.join('\n  ')}`);
  process.exitCode = 1;
}
