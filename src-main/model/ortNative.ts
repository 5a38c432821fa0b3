// Synchronous access to onnxruntime-node's native session. The public InferenceSession.run defers every call to
// a setImmediate tick and wraps its outputs again, which for a single-row tree ensemble costs more than the
// inference itself and adds event-loop jitter to every trading decision; the native binding's run is the same
// onnxruntime call without the detour. When the package layout is not the one we know, callers fall back to
// the public async API.
import { createRequire } from 'node:module';
import type * as ort from 'onnxruntime-node';

interface RawMetadata {
  name: string;
}

interface NativeBindingSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(
    feeds: Record<string, ort.Tensor>,
    fetches: Record<string, null>,
    options: object,
  ): Record<string, { data: unknown }>;
  readonly inputMetadata: readonly RawMetadata[];
  readonly outputMetadata: readonly RawMetadata[];
  dispose(): void;
}

interface NativeBindingModule {
  binding: { InferenceSession: new () => NativeBindingSession };
  initOrt: () => void;
}

/** One loaded model, run synchronously. */
export interface SyncSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph on `feeds` and returns the named output's data. */
  run(feeds: Record<string, ort.Tensor>, output: string): Float32Array;
  dispose(): void;
}

let bindingModule: NativeBindingModule | null | undefined;

function loadBinding(): NativeBindingModule | null {
  if (bindingModule !== undefined) return bindingModule;
  try {
    const require = createRequire(import.meta.url);
    const mod = require('onnxruntime-node/dist/binding') as Partial<NativeBindingModule>;
    bindingModule =
      typeof mod.initOrt === 'function' && typeof mod.binding?.InferenceSession === 'function'
        ? (mod as NativeBindingModule)
        : null;
  } catch {
    bindingModule = null;
  }
  return bindingModule;
}

/**
 * Loads a model into a native session, or returns null when the binding is not reachable (callers then use the
 * public API). Errors from onnxruntime itself (a corrupt model) are thrown, as the public API would.
 */
export function createSyncSession(bytes: Uint8Array, options: object): SyncSession | null {
  const mod = loadBinding();
  if (!mod) return null;
  mod.initOrt();
  const native = new mod.binding.InferenceSession();
  native.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
  const inputNames = native.inputMetadata.map((m) => m.name);
  const outputNames = native.outputMetadata.map((m) => m.name);
  const fetches: Record<string, null> = Object.fromEntries(outputNames.map((n) => [n, null]));
  const runOptions = {};
  return {
    inputNames,
    outputNames,
    run(feeds, output) {
      const out = native.run(feeds, fetches, runOptions)[output];
      if (!out || !(out.data instanceof Float32Array))
        throw new Error(`model output ${output} is not float32`);
      return out.data;
    },
    dispose() {
      native.dispose();
    },
  };
}
