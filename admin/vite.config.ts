import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev:admin` proxies the API to a running server (`npm run dev`, port 3000 by default).
const api = process.env.SWITCHBOARD_API_URL ?? 'http://127.0.0.1:3000';
const proxied = ['/api', '/hooks', '/health', '/media', '/share'];

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: {
      '@': new URL('./src', import.meta.url).pathname,
      // Browser-safe server modules shared with the panel (the bot config's zod schema).
      '@server': new URL('../src', import.meta.url).pathname,
    },
  },
  server: {
    port: 5173,
    // The config editor validates with the server's own zod schema (../src/features/bots).
    fs: { allow: ['..'] },
    proxy: Object.fromEntries(proxied.map((prefix) => [prefix, { target: api, changeOrigin: false }])),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 400,
    // The manifest lets scripts/check-bundle.mjs find what the first page load fetches.
    manifest: true,
  },
});
