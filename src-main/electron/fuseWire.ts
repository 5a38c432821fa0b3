// Reads and sets Electron's fuse wire (the sentinel-marked bytes in the Electron binary that @electron/fuses flips)
// so the release workflow can check that a packaged executable ships with the fuses electron-builder.yml asks for,
// and turn the --inspect fuse back on in a test copy for Playwright. Pure (bytes in, bytes out); no 'electron'.
import path from 'node:path';

export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const ENABLE = 0x31; // '1'
const DISABLE = 0x30; // '0'
const REMOVED = 0x72; // 'r'

/** electron-builder.yml `electronFuses` keys, in fuse-wire order (FuseV1Options). */
export const FUSE_KEYS = [
  'runAsNode',
  'enableCookieEncryption',
  'enableNodeOptionsEnvironmentVariable',
  'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation',
  'onlyLoadAppFromAsar',
  'loadBrowserProcessSpecificV8Snapshot',
  'grantFileProtocolExtraPrivileges',
] as const;
export type FuseKey = (typeof FUSE_KEYS)[number];
export type FuseState = 'on' | 'off' | 'removed' | 'unknown';

function sentinels(bin: Uint8Array): number[] {
  const buf = Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength);
  const out: number[] = [];
  for (let i = buf.indexOf(FUSE_SENTINEL); i !== -1; i = buf.indexOf(FUSE_SENTINEL, i + 1)) out.push(i);
  if (out.length === 0) throw new Error('no fuse wire found: not an Electron binary (Electron >= 12)');
  return out;
}

/** The state of each fuse, per wire (a universal macOS binary has two, one per architecture). */
export function readFuseWires(bin: Uint8Array): FuseState[][] {
  return sentinels(bin).map((at) => {
    const pos = at + FUSE_SENTINEL.length;
    if (bin[pos] !== 1) throw new Error(`unsupported fuse wire version ${bin[pos]}`);
    const len = bin[pos + 1];
    return Array.from({ length: len }, (_, i) => {
      const b = bin[pos + 2 + i];
      return b === ENABLE ? 'on' : b === DISABLE ? 'off' : b === REMOVED ? 'removed' : 'unknown';
    });
  });
}

/** One line per fuse whose state differs from the configuration; empty when the binary matches. */
export function fuseMismatches(bin: Uint8Array, expected: Partial<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(expected)) {
    if (key === 'resetAdHocDarwinSignature') continue;
    if (!(FUSE_KEYS as readonly string[]).includes(key)) problems.push(`${key}: not a known fuse`);
  }
  readFuseWires(bin).forEach((wire, w) => {
    FUSE_KEYS.forEach((key, i) => {
      const want = expected[key];
      if (typeof want !== 'boolean') return;
      const have = wire[i] ?? 'missing';
      if (have !== (want ? 'on' : 'off'))
        problems.push(`${key}: ${have}, expected ${want ? 'on' : 'off'} (wire ${w})`);
    });
  });
  return problems;
}

/** A copy of the binary with one fuse set, in every wire. */
export function withFuse(bin: Uint8Array, key: FuseKey, on: boolean): Uint8Array {
  const out = new Uint8Array(bin);
  const i = FUSE_KEYS.indexOf(key);
  for (const at of sentinels(out)) {
    const pos = at + FUSE_SENTINEL.length;
    if (i >= out[pos + 1]) throw new Error(`this Electron has no ${key} fuse`);
    out[pos + 2 + i] = on ? ENABLE : DISABLE;
  }
  return out;
}

/** The file holding the fuse wire: the executable, or on macOS the Electron Framework inside the .app. */
export function fuseFile(executable: string): string {
  const app = /^(.*?\.app)(?:[/\\]|$)/.exec(executable)?.[1];
  return app
    ? path.join(app, 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework')
    : executable;
}
