// The app's words for what the shared code says in the command line's: a refusal that advises `l2desk collect`
// sends a GUI user to a terminal. Applied to every text the app sends to a page (createApp, beside path redaction),
// so a message written for the CLI deep in the model or store code reaches the page saying what the GUI can do.

/** What the app can do to get more data: the feed it trades on is stored, and Collect stores more. */
export const MORE_DATA_ADVICE = 'keep the feed running or press Collect';

/** "Needs about 33 more minutes of data: keep the feed running or press Collect" (at least 1 minute). */
export function needsMoreData(ms: number): string {
  const min = Math.max(1, Math.ceil(ms / 60_000));
  return `Needs about ${min} more minute${min === 1 ? '' : 's'} of data: ${MORE_DATA_ADVICE}`;
}

const UNIT_MS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000 };

/** "58 seconds", "4 minutes", "2.5 hours" (as model/trainingData.ts's spokenDuration writes them) in ms. */
export function spokenToMs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?) (second|minute|hour)s?$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

// Training's span refusal (model/trainingData.ts checkSpan): "training needs at least 34 minutes of data (200
// independent 10 s horizons); session 3 covers 5 minutes (30 horizons): collect about 29 minutes more, then train
// again". The app leads with how much more it needs and keeps the facts after it.
const SPAN_REFUSAL =
  /^training needs at least (.+?) of data \((.+?)\); (.+?) (covers?) (.+?) \((.+?)\): collect about (.+?) more, then train again$/;

/** A CLI command named in a text ("l2desk collect"; not a file such as "l2desk.db"). */
const CLI_COMMAND = /\bl2desk [a-z]/;

/** Where the CLI's advice names a command, what the app says instead; '' drops the advice. */
const CLI_ADVICE: [RegExp, string][] = [
  // "collect more data (l2desk collect)", "record one with `l2desk collect` or `l2desk import`"
  [/collect more data(?:,? then train again)?(?: \(`?l2desk collect`?\))?/g, MORE_DATA_ADVICE],
  [/record one with `?l2desk collect`?(?: or `?l2desk import`?)?/g, MORE_DATA_ADVICE],
  // The predictor's refusal of a model for another feature set.
  [
    /Retrain it with `?l2desk train`?(?: \(or `?npm run train:default`? for the bundled model\))?/g,
    'Press Retrain to train one',
  ],
  [/ ?\(`?l2desk [^)]*`?\)/g, ''],
];

/** `message` in the app's words: no `l2desk …` advice, and a too-short refusal said as how much more it needs. */
export function guiWording(message: string): string {
  const span = SPAN_REFUSAL.exec(message);
  if (span) {
    const more = spokenToMs(span[7]);
    if (more !== null)
      return `${needsMoreData(more)}. Training needs at least ${span[1]} of data (${span[2]}); ${span[3]} ${span[4]} ${span[5]}.`;
  }
  // A refused subscription's advice names the CLI's flag; the app streams the category of its config file.
  const flags = message.replace(
    /check the symbol and --category \(linear or spot\)/g,
    "check the symbol in the Symbol field (the app streams the market set by the config file's category key: linear or spot)",
  );
  if (!CLI_COMMAND.test(flags) && !/collect more data/.test(flags)) return flags;
  let out = flags;
  for (const [re, to] of CLI_ADVICE) out = out.replace(re, to);
  // Anything still naming a CLI command: the clause that does is advice the app cannot follow.
  if (CLI_COMMAND.test(out))
    out = out
      .split(/(?<=[;:.])\s+/)
      .filter((c) => !CLI_COMMAND.test(c))
      .join(' ');
  return out.replace(/[\s;:,]+$/, '');
}
