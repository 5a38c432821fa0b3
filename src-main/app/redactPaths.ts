// What leaves the engine for a page (command errors, error and progress messages, status notes) names files without
// the local folders they live in: a page, possibly in a browser, has no business learning the user's directory layout.
// Known paths get a plain name ("the database"); any other absolute path is cut to its file name.
import type {
  CollectProgress,
  CommandName,
  CommandResult,
  Commands,
  EventName,
  Events,
  RetrainResult,
  StatusView,
} from '../../src-shared/ipc.ts';

export interface KnownPath {
  path: string;
  /** What the page reads instead, e.g. "the database". */
  label: string;
}

// An absolute path starts a word (line start, space, quote, bracket, '=' or ','); it ends at whitespace, a quote,
// a bracket or ',;:' — so "in /x/app.db; list them" and "/x/app.db: locked" keep their punctuation.
const EDGE = String.raw`(?<=^|[\s'"\x60(\[{<=,])`;
const SEG = String.raw`[^\s'"\x60<>()\[\]{},;:|*?\\/]`;
const FILE_URL = new RegExp(String.raw`${EDGE}file:\/\/[^\s'"\x60<>()\[\]{}]+`, 'g');
// Two segments at least: a lone "/s" (as in "msgs /s") is not a path.
const POSIX = new RegExp(String.raw`${EDGE}\/(?:${SEG}+\/)+${SEG}*`, 'g');
const WINDOWS = new RegExp(String.raw`${EDGE}(?:[A-Za-z]:|\\\\${SEG}+)[\\/](?:${SEG}+[\\/])*${SEG}*`, 'g');

function baseName(p: string): string {
  const parts = p.split(/[\\/]+/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : p;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The message with every local path taken out: each known path (also as a file:// URL) becomes its label, any
 * other absolute path (POSIX, Windows drive or UNC, file:// URL) its last segment.
 */
export function redactPaths(message: string, known: readonly KnownPath[] = []): string {
  let out = message;
  const forms = known
    .flatMap((k) => {
      const slash = k.path.replace(/\\/g, '/');
      return [k.path, slash, `file://${slash.startsWith('/') ? '' : '/'}${slash}`].map((p) => ({
        p,
        label: k.label,
      }));
    })
    .filter((f) => f.p.length > 1)
    // The longest first: a folder must not eat the start of a file inside it.
    .sort((a, b) => b.p.length - a.p.length);
  for (const f of forms) {
    if (!out.includes(f.p)) continue;
    // Only the whole path: "/x/app.db" is not the start of "/x/app.db-wal", nor a folder the start of a file in it.
    out = out.replace(new RegExp(`${escapeRegExp(f.p)}(?![\\w.\\-\\\\/])`, 'g'), f.label);
  }
  return out
    .replace(FILE_URL, (u) => {
      try {
        return baseName(decodeURIComponent(new URL(u).pathname));
      } catch {
        return baseName(u);
      }
    })
    .replace(WINDOWS, baseName)
    .replace(POSIX, baseName);
}

type Redact = (message: string) => string;

const redactStatus = (s: StatusView, r: Redact): StatusView => (s.note ? { ...s, note: r(s.note) } : s);
const redactCollect = (c: CollectProgress | null, r: Redact): CollectProgress | null =>
  c?.error ? { ...c, error: r(c.error) } : c;
const redactRetrain = (x: RetrainResult | null, r: Redact): RetrainResult | null =>
  x?.error ? { ...x, error: r(x.error) } : x;

/** The same event with its human-readable texts redacted (the data-only events pass untouched, at no cost). */
export function redactEvent<K extends EventName>(event: K, payload: Events[K], r: Redact): Events[K] {
  const p = payload as Events[EventName];
  switch (event) {
    case 'app/error':
    case 'app/notice':
    case 'retrain/progress':
    case 'backtest/progress': {
      const m = p as { message: string };
      return { ...m, message: r(m.message) } as Events[K];
    }
    case 'retrain/result':
      return redactRetrain(p as RetrainResult, r) as Events[K];
    case 'collect/progress':
      return redactCollect(p as CollectProgress, r) as Events[K];
    case 'app/status':
      return redactStatus(p as StatusView, r) as Events[K];
    default:
      return payload;
  }
}

/** Result texts to redact, per command (the others carry no free text). */
const RESULT_TEXTS: { [K in CommandName]?: (x: CommandResult<K>, r: Redact) => CommandResult<K> } = {
  'app/hello': (s, r) => ({
    ...s,
    status: redactStatus(s.status, r),
    collect: redactCollect(s.collect, r),
    retrain: redactRetrain(s.retrain, r),
    notices: s.notices.map((n) => ({ ...n, message: r(n.message) })),
  }),
  'market/setSource': redactStatus,
  'market/start': redactStatus,
  'market/stop': redactStatus,
  'model/use': redactStatus,
  'collect/start': (c, r) => redactCollect(c, r) as CollectProgress,
  'collect/stop': (c, r) => redactCollect(c, r) as CollectProgress,
  'model/accept': (x, r) => redactRetrain(x, r) as RetrainResult,
  'model/reject': (x, r) => redactRetrain(x, r) as RetrainResult,
  'sessions/quality': (q, r) => ({ ...q, findings: q.findings.map(r) }),
};

/**
 * The handlers with their errors (and the texts of their results) redacted: what the dispatcher sends back to a
 * page never names a local folder, whichever command failed and however deep the error came from.
 */
export function redactHandlers(h: Commands, r: Redact): Commands {
  const out: Record<string, (a: unknown) => Promise<unknown>> = {};
  for (const k of Object.keys(h) as CommandName[]) {
    const fn = h[k] as (a: unknown) => Promise<unknown>;
    const texts = RESULT_TEXTS[k] as ((x: unknown, r: Redact) => unknown) | undefined;
    out[k] = (a) =>
      Promise.resolve()
        .then(() => fn.call(h, a))
        .then(
          (x) => (texts ? texts(x, r) : x),
          (e: unknown) => {
            throw new Error(r(e instanceof Error ? e.message : String(e)));
          },
        );
  }
  return out as unknown as Commands;
}
