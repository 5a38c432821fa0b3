import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { FUSE_KEYS, FUSE_SENTINEL, fuseFile, fuseMismatches, readFuseWires, withFuse } from './fuseWire.ts';

const require = createRequire(import.meta.url);
// The library electron-builder flips fuses with: our reader must agree with it byte for byte.
const fuses = require('@electron/fuses') as {
  FuseVersion: { V1: string };
  FuseV1Options: Record<string, number | string>;
  flipFuses(file: string, config: Record<string, unknown>): Promise<number>;
};
const builderConfig = YAML.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', 'electron-builder.yml'), 'utf8'),
) as {
  electronFuses: Record<string, boolean>;
};

/** A stand-in Electron binary: noise around a fuse wire with Electron's default states. */
function fakeElectron(wires = 1): Buffer {
  // RunAsNode on, cookie encryption off, NODE_OPTIONS on, --inspect on, asar integrity off, only-asar off,
  // browser V8 snapshot off, file:// privileges on.
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([1, 8]), Buffer.from('10110001')]);
  const parts = [Buffer.alloc(64, 7)];
  for (let i = 0; i < wires; i++) parts.push(wire, Buffer.alloc(32, 9));
  return Buffer.concat(parts);
}

function tmpFile(bin: Uint8Array): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-fuse-')), 'electron');
  fs.writeFileSync(f, bin);
  return f;
}

async function flipAsElectronBuilderDoes(file: string): Promise<void> {
  const config: Record<string, unknown> = { version: fuses.FuseVersion.V1 };
  for (const [k, v] of Object.entries(builderConfig.electronFuses)) {
    if (k === 'resetAdHocDarwinSignature') continue;
    config[fuses.FuseV1Options[k[0].toUpperCase() + k.slice(1)]] = v;
  }
  await fuses.flipFuses(file, config);
}

describe('electron-builder.yml fuses', () => {
  it('turns off every way into the shipped binary', () => {
    expect(builderConfig.electronFuses).toMatchObject({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('is a configuration electron-builder accepts', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, log: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (on: boolean) => unknown };
    await expect(validateConfiguration(builderConfig, new DebugLogger(false))).resolves.toBeUndefined();
    const typo = { ...builderConfig, electronFuses: { ...builderConfig.electronFuses, runAsnode: false } };
    await expect(validateConfiguration(typo, new DebugLogger(false))).rejects.toThrow(/electronFuses/);
  });

  it('names the fuses in the order of the wire @electron/fuses writes', () => {
    FUSE_KEYS.forEach((k, i) => expect(fuses.FuseV1Options[k[0].toUpperCase() + k.slice(1)]).toBe(i));
  });
});

describe('fuse wire', () => {
  it('finds a stock Electron binary out of line with the configuration', () => {
    const problems = fuseMismatches(fakeElectron(), builderConfig.electronFuses);
    expect(problems).toEqual([
      'runAsNode: on, expected off (wire 0)',
      'enableCookieEncryption: off, expected on (wire 0)',
      'enableNodeOptionsEnvironmentVariable: on, expected off (wire 0)',
      'enableNodeCliInspectArguments: on, expected off (wire 0)',
      'enableEmbeddedAsarIntegrityValidation: off, expected on (wire 0)',
      'onlyLoadAppFromAsar: off, expected on (wire 0)',
      'grantFileProtocolExtraPrivileges: on, expected off (wire 0)',
    ]);
  });

  it('agrees with the binary electron-builder produces, in both wires of a universal build', async () => {
    for (const wires of [1, 2]) {
      const file = tmpFile(fakeElectron(wires));
      await flipAsElectronBuilderDoes(file);
      const bin = fs.readFileSync(file);
      expect(readFuseWires(bin)).toHaveLength(wires);
      expect(fuseMismatches(bin, builderConfig.electronFuses)).toEqual([]);
      // The Playwright test copy differs by exactly the --inspect fuse.
      const test = withFuse(bin, 'enableNodeCliInspectArguments', true);
      expect(fuseMismatches(test, builderConfig.electronFuses)).toEqual(
        Array.from(
          { length: wires },
          (_, w) => `enableNodeCliInspectArguments: on, expected off (wire ${w})`,
        ),
      );
      expect(Buffer.compare(Buffer.from(bin), fs.readFileSync(file))).toBe(0);
    }
  });

  it('refuses what is not an Electron binary, and unknown keys', () => {
    expect(() => readFuseWires(Buffer.from('#!/bin/sh\necho hi\n'))).toThrow(/no fuse wire found/);
    expect(fuseMismatches(fakeElectron(), { runAsNod: false })).toEqual(['runAsNod: not a known fuse']);
  });

  it('finds the wire of a macOS app in its framework', () => {
    expect(fuseFile('/r/mac-arm64/L2 Desk.app/Contents/MacOS/L2 Desk')).toBe(
      path.join(
        '/r/mac-arm64/L2 Desk.app',
        'Contents',
        'Frameworks',
        'Electron Framework.framework',
        'Electron Framework',
      ),
    );
    expect(fuseFile('/r/linux-unpacked/l2desk')).toBe('/r/linux-unpacked/l2desk');
  });
});
