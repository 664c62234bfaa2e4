// Dashboard build: `npm run build:client` writes client/dist, which the server serves as is.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  // Views are Preact components (TSX); esbuild compiles the JSX, no plugin needed.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // Test hooks (window.__vigil, frame captures) exist only in builds made with VIGIL_TEST_HOOKS=1.
  define: { __VIGIL_TEST_HOOKS__: JSON.stringify(process.env.VIGIL_TEST_HOOKS === '1') },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npx vite --config client/vite.config.ts` against a running `vigil serve` on 8080.
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
      '/hls': 'http://127.0.0.1:8080',
      '/socket.io': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
});
