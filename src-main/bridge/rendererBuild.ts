// Builds the renderer for web mode (plain Vite, output out/web) when it is missing or older than its sources,
// so `l2desk web` always serves the UI that matches the code.
import fs from 'node:fs';
import path from 'node:path';

export function rendererPaths(root: string) {
  return {
    src: path.join(root, 'src-renderer'),
    shared: path.join(root, 'src-shared'),
    out: path.join(root, 'out', 'web'),
  };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

export function rendererIsStale(root: string): boolean {
  const { src, shared, out } = rendererPaths(root);
  const index = path.join(out, 'index.html');
  if (!fs.existsSync(index)) return true;
  const built = fs.statSync(index).mtimeMs;
  return newestMtime(src) > built || newestMtime(shared) > built;
}

export async function buildRenderer(root: string, log: (s: string) => void = () => {}): Promise<string> {
  const { src, out } = rendererPaths(root);
  log('building the UI (vite)…');
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
  await build({
    configFile: false,
    root: src,
    base: './',
    logLevel: 'warn',
    plugins: [react()],
    build: { outDir: out, emptyOutDir: true, chunkSizeWarningLimit: 2000, reportCompressedSize: false },
  });
  return out;
}

export async function ensureRenderer(root: string, log: (s: string) => void = () => {}): Promise<string> {
  if (rendererIsStale(root)) await buildRenderer(root, log);
  return rendererPaths(root).out;
}
