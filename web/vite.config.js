// Vite build of the e-Cabinet web client; dev server proxies the API like tools/web_server.py.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

const api = process.env.API_URL || 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [preact()],
  build: {
    target: 'es2022',
    // CSP forbids inline scripts: never inline assets as data: scripts either.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: {
      '/v1': api,
      '/openapi.json': api,
    },
  },
});
