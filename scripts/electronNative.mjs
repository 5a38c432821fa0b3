// better-sqlite3 is a classic Node addon compiled for one ABI: the copy in node_modules serves Node (CLI, web mode,
// tests), so the desktop app opens SQLite through a second build made for Electron's ABI, kept apart in
// .cache/electron-native/<electron version>/ and passed to better-sqlite3's `nativeBinding` option
// (L2DESK_SQLITE_BINDING). Built once per Electron version: a prebuilt binary when one can be downloaded, else
// node-gyp against Electron's headers. Both need the internet once; the packaged app carries its own build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Path of the Electron build of better-sqlite3, building it first if needed; throws with the reason. */
export function electronSqliteBinding(root) {
  const electronVersion = JSON.parse(
    fs.readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
  ).version;
  const outDir = path.join(root, '.cache', 'electron-native', electronVersion);
  const target = path.join(outDir, 'better_sqlite3.node');
  if (fs.existsSync(target)) return publish(root, target);

  // Build in a copy so the Node build in node_modules stays untouched.
  const src = path.join(outDir, 'better-sqlite3');
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  fs.cpSync(path.join(root, 'node_modules', 'better-sqlite3'), src, {
    recursive: true,
    filter: (p) => !p.includes(`${path.sep}build${path.sep}`),
  });
  const bin = (name) => path.join(root, 'node_modules', '.bin', name);
  const attempts = [
    [bin('prebuild-install'), ['--runtime', 'electron', '--target', electronVersion]],
    [
      bin('node-gyp'),
      ['rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'],
    ],
  ];
  const errors = [];
  for (const [cmd, args] of attempts) {
    const r = spawnSync(cmd, args, { cwd: src, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    const built = path.join(src, 'build', 'Release', 'better_sqlite3.node');
    if (r.status === 0 && fs.existsSync(built)) {
      fs.copyFileSync(built, target);
      fs.rmSync(src, { recursive: true, force: true });
      return publish(root, target);
    }
    errors.push(
      `${path.basename(cmd)}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop()}`,
    );
  }
  fs.rmSync(src, { recursive: true, force: true });
  throw new Error(`could not build better-sqlite3 for Electron ${electronVersion} (${errors.join('; ')})`);
}

/** The packager takes the build for the pinned Electron from one fixed path (electron-builder.yml). */
function publish(root, target) {
  fs.copyFileSync(target, path.join(root, '.cache', 'electron-native', 'better_sqlite3.node'));
  return target;
}

// `node scripts/electronNative.mjs` (npm run dist) builds it ahead of packaging.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  try {
    console.log(electronSqliteBinding(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')));
  } catch (e) {
    console.error(`dist: ${e.message}`);
    process.exit(1);
  }
}
