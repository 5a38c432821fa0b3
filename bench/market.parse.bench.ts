// market.parse: Bybit v5 frames parsed per second by parseFrame (JSON + validation + numbers parsed once) on the
// real recording repeated, beside its ceiling, a bare JSON.parse of the same texts; and sim.generate: simulated
// seconds produced per wall second by SimGenerator at 50 book messages/s (what `--speed max` can reach).
import fs from 'node:fs';
import { parseFrame } from '../src-main/market/bybit/protocol.ts';
import { SimGenerator } from '../src-main/market/sim/simGenerator.ts';
import { emit, interleave, median, timeIt } from './lib/report.ts';
import { BYBIT_RECORDING } from '../src-main/testing/bybitRecording.ts';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 200);
const ROUNDS = Number(process.env.BENCH_RUNS ?? 5);
const lines = fs
  .readFileSync(BYBIT_RECORDING, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0);
const texts: string[] = [];
for (let r = 0; r < REPEAT; r++) texts.push(...lines);

let sink = 0;
const rates = interleave(
  {
    parseFrame: () => {
      for (let i = 0; i < texts.length; i++) if (parseFrame(texts[i], i).type === 'book') sink++;
      return texts.length;
    },
    'JSON.parse': () => {
      for (let i = 0; i < texts.length; i++)
        if ((JSON.parse(texts[i]) as { type?: string }).type === 'delta') sink++;
      return texts.length;
    },
  },
  ROUNDS,
);
const ours = median(rates.parseFrame);
const ceiling = median(rates['JSON.parse']);
emit({
  bench: 'market.parse',
  value: Math.round(ours),
  unit: 'messages/s',
  peer: 'JSON.parse',
  peer_value: Math.round(ceiling),
  ceiling_ratio: +(ours / ceiling).toFixed(3),
  n: texts.length,
});

const SIM_SECONDS = Number(process.env.BENCH_SIM_SECONDS ?? 600);
const simRates: number[] = [];
for (let r = 0; r < 3; r++) {
  const gen = new SimGenerator({
    seed: r + 1,
    startPrice: 65000,
    tickSize: '0.1',
    levels: 200,
    bookRateHz: 50,
    depth: 200,
    startMs: 0,
  });
  const secs = timeIt(() => {
    while (gen.nowMs < SIM_SECONDS * 1000) sink += gen.next().frames.length;
  });
  simRates.push(SIM_SECONDS / secs);
}
emit({
  bench: 'sim.generate',
  value: Math.round(median(simRates)),
  unit: 'simulated s/s',
  n: SIM_SECONDS * 50,
});
if (sink < 0) console.log(sink);
