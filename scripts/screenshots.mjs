#!/usr/bin/env node
// `npm run screenshots`: runs the browser e2e, which saves every step under e2e/artifacts/ and, with
// L2DESK_SCREENSHOT=1, the full trading screen as docs/screenshot.png (the README's picture).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'e2e/web.e2e.ts'],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, L2DESK_SCREENSHOT: '1' },
  },
);
if (r.status === 0) console.log(`docs/screenshot.png refreshed; step screenshots in e2e/artifacts/`);
process.exit(r.status ?? 1);
