// Builds the app's pages: Vue + Bitrix24's UI kit (public/src) → public/dist, served under /public/.
// Fixed file names (app.js, settings.js, pages.css, chunks/…): the HTML in public/ names them and is
// served with no-store; the Content-Security-Policy allows only files from us, so nothing is inlined.
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import bitrix24UI from '@bitrix24/b24ui-nuxt/vite';
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

// Per page: its entry, the chunks it imports and the one stylesheet, as the browser downloads them.
const output = (Array.isArray(result) ? result[0] : result).output;
const byName = new Map(output.map((file) => [file.fileName, file]));
const sizeOf = (file) => (file.type === 'chunk' ? Buffer.byteLength(file.code) : Buffer.byteLength(file.source));
const closure = (name, seen = new Set()) => {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const imported of byName.get(name)?.imports ?? []) closure(imported, seen);
  return seen;
};
const css = output.find((file) => file.fileName === 'pages.css');
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const { gzipSync } = await import('node:zlib');
const lines = ['app.js', 'settings.js'].map((entry) => {
  const files = [...closure(entry)].map((name) => byName.get(name));
  if (css) files.push(css);
  const raw = files.reduce((sum, file) => sum + sizeOf(file), 0);
  const gzip = files.reduce((sum, file) => sum + gzipSync(file.type === 'chunk' ? file.code : file.source).length, 0);
  return `${entry === 'app.js' ? '/app' : '/placement/:code'}: ${files.length} files, ${kb(raw)} (${kb(gzip)} gzip)`;
});
console.log(`pages built: ${lines.join('; ')}`);
