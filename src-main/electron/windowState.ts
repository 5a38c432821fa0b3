// Remembers the main window's size and position between runs (JSON in userData), ignoring a saved position that
// is no longer on any screen.
import fs from 'node:fs';
import path from 'node:path';

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

const DEFAULT: WindowState = { width: 1600, height: 960, maximized: false };

export function loadWindowState(
  dir: string,
  screens: { x: number; y: number; width: number; height: number }[],
): WindowState {
  try {
    const s = JSON.parse(
      fs.readFileSync(path.join(dir, 'window-state.json'), 'utf8'),
    ) as Partial<WindowState>;
    const width = Math.max(800, Number(s.width) || DEFAULT.width);
    const height = Math.max(500, Number(s.height) || DEFAULT.height);
    const st: WindowState = { width, height, maximized: Boolean(s.maximized) };
    if (Number.isFinite(s.x) && Number.isFinite(s.y)) {
      const x = s.x as number;
      const y = s.y as number;
      const visible = screens.some(
        (b) => x + 100 > b.x && x < b.x + b.width - 100 && y >= b.y - 10 && y < b.y + b.height - 50,
      );
      if (visible) Object.assign(st, { x, y });
    }
    return st;
  } catch {
    return { ...DEFAULT };
  }
}

export function saveWindowState(dir: string, st: WindowState): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'window-state.json'), JSON.stringify(st));
  } catch {
    // Losing the window position is not worth an error dialog.
  }
}
