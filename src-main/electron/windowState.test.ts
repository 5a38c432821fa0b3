import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWindowState, saveWindowState } from './windowState.ts';

const screen = { x: 0, y: 0, width: 1920, height: 1080 };

describe('window state', () => {
  it('round-trips size, position and maximized through userData', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-win-'));
    saveWindowState(dir, { x: 100, y: 80, width: 1400, height: 900, maximized: true });
    expect(loadWindowState(dir, [screen])).toEqual({
      x: 100,
      y: 80,
      width: 1400,
      height: 900,
      maximized: true,
    });
  });

  it('drops a position that is on no screen any more, and clamps tiny sizes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-win-'));
    saveWindowState(dir, { x: 3000, y: 80, width: 200, height: 100, maximized: false });
    expect(loadWindowState(dir, [screen])).toEqual({ width: 800, height: 500, maximized: false });
  });

  it('falls back to defaults for a missing or corrupt file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-win-'));
    expect(loadWindowState(dir, [screen])).toEqual({ width: 1600, height: 960, maximized: false });
    fs.writeFileSync(path.join(dir, 'window-state.json'), '{not json');
    expect(loadWindowState(dir, [screen]).width).toBe(1600);
  });
});
