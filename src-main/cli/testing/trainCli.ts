// `l2desk train --json` as the store tests run it (no search, 40 rounds, a short minimum of horizons), and the part of
// its answer that must be equal across stores holding the same data (not the paths, ids, time or cache use).
import path from 'node:path';
import { json } from './runCli.ts';

export function trainJson(db: string, name: string, dir: string): Promise<Record<string, unknown>> {
  return json<Record<string, unknown>>(
    'train',
    '--db',
    db,
    '--trials',
    '0',
    '--rounds',
    '40',
    '--out',
    path.join(dir, 'models'),
    '--name',
    name,
    '--set',
    'train.min_horizons=60',
    '--json',
  );
}

export function sameTraining(r: Record<string, unknown>): Record<string, unknown> {
  const { model: _m, metadata: _j, model_id: _i, seconds: _s, store_cache: _c, ...rest } = r;
  return rest;
}
