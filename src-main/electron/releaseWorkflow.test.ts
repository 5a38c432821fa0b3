// The release pipeline cannot run here (no Electron download offline); these checks keep its shape from rotting:
// every system builds, the shipped app is checked and launched, and the Electron e2e runs against the package.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '..', '..');

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<
    string,
    { strategy?: { matrix: { os: string[] } }; steps: Step[]; env?: Record<string, string> }
  >;
}

function workflow(name: string): Workflow {
  const doc = YAML.parseDocument(fs.readFileSync(path.join(REPO, '.github', 'workflows', name), 'utf8'));
  expect(doc.errors).toEqual([]);
  return doc.toJS() as Workflow;
}

describe('release workflow', () => {
  const wf = workflow('release.yml');
  const job = wf.jobs.package;
  const runs = job.steps.map((s) => s.run ?? '').join('\n');

  it('builds on Linux, Windows and macOS from a tag', () => {
    expect(Object.keys(wf.on)).toContain('push');
    expect(job.strategy?.matrix.os).toEqual(['ubuntu-latest', 'windows-latest', 'macos-latest']);
    expect(runs).toMatch(/^npm ci$/m);
    expect(runs).not.toMatch(/ELECTRON_SKIP_BINARY_DOWNLOAD/);
    // `npm run dist` builds better-sqlite3 for Electron's ABI before packaging.
    expect(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).scripts.dist).toMatch(
      /^node scripts\/electronNative\.mjs && electron-vite build && electron-builder/,
    );
    expect(runs).toContain('npm run dist -- --publish never');
  });

  it('checks the fuses, launches the shipped app, then runs the Electron e2e on the package', () => {
    const order = ['check-fuses', 'smoke', 'test-copy', 'vitest run e2e/electron.e2e.ts'].map((s) =>
      runs.indexOf(s),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const e2e = job.steps.find((s) => s.run?.includes('e2e/electron.e2e.ts'));
    expect(e2e?.env?.L2DESK_ELECTRON_EXECUTABLE).toMatch(/steps\.testapp\.outputs\.exe/);
    expect(e2e?.run).toContain('xvfb-run');
  });

  it('calls only commands the helper script has', () => {
    const script = fs.readFileSync(path.join(REPO, '.github', 'scripts', 'packagedApp.ts'), 'utf8');
    const used = [...runs.matchAll(/packagedApp\.ts (\S+)/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThanOrEqual(5);
    for (const cmd of used) expect(script).toContain(`cmd === '${cmd}'`);
  });

  it('uploads the installers', () => {
    const upload = job.steps.find(
      (s) => s.uses?.startsWith('actions/upload-artifact') && s.name === 'Upload installers',
    );
    expect(upload).toBeDefined();
  });
});

describe('CI workflow', () => {
  it('runs the whole test suite, e2e included, under a display', () => {
    const wf = workflow('ci.yml');
    const runs = wf.jobs.test.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('node scripts/electronNative.mjs');
    expect(runs).toContain('xvfb-run -a npm test');
  });
});
