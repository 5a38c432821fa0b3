// electron-vite build of the desktop app: main (src-main/electron/main.ts, Node deps external), a CommonJS preload
// (sandboxed preloads cannot be ES modules) and the renderer (src-renderer). Web mode builds the same renderer
// with plain Vite (src-main/bridge/rendererBuild.ts → out/web).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        // The workers are their own entries, next to the chunks that start them (new URL('./trainerWorker.js'),
        // new URL('./backtestWorker.js'), new URL('./sessionPrefetchWorker.js'), new URL('./openSessionRowsWorker.js')).
        input: {
          index: resolve('src-main/electron/main.ts'),
          trainerWorker: resolve('src-main/model/trainerWorker.ts'),
          backtestWorker: resolve('src-main/backtest/backtestWorker.ts'),
          sessionPrefetchWorker: resolve('src-main/store/sessionPrefetchWorker.ts'),
          openSessionRowsWorker: resolve('src-main/model/openSessionRowsWorker.ts'),
        },
        output: { chunkFileNames: '[name]-[hash].js' },
        external: ['better-sqlite3', 'onnxruntime-node', 'ws', 'bufferutil', 'utf-8-validate'],
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve('src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      chunkSizeWarningLimit: 2000,
      rollupOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
  },
});
