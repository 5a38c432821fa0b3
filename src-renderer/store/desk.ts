// The screen's state (zustand): latest views from the engine events; series live in ./series.ts.
import { create } from 'zustand';
import type {
  BacktestProgress,
  BacktestReport,
  BookView,
  CollectProgress,
  FeaturesView,
  FillEvent,
  ModelInfo,
  PortfolioView,
  RetrainProgress,
  RetrainResult,
  SessionInfo,
  StoreView,
  SignalEvent,
  Snapshot,
  StatusView,
  WhatIfResult,
} from '../../src-shared/ipc.ts';
import { IPC_VERSION } from '../../src-shared/ipcEvents.ts';
import type { Client, LinkState } from '../api/client.ts';
import { market } from './market.ts';
import { equity, predictions, prices } from './series.ts';

const TAPE = 200;

export interface DeskState {
  link: LinkState;
  loaded: boolean;
  status: StatusView | null;
  book: BookView | null;
  portfolio: PortfolioView | null;
  signals: SignalEvent[];
  fills: FillEvent[];
  /** The latest prediction's feature row with its running statistics (Features panel). */
  features: FeaturesView | null;
  /** Signals seen since the threshold last changed (the live count the slider affects). */
  signalCount: number;
  threshold: number;
  whatIf: WhatIfResult | null;
  collect: CollectProgress | null;
  retrainProgress: RetrainProgress | null;
  retrain: RetrainResult | null;
  backtestProgress: BacktestProgress | null;
  backtest: BacktestReport | null;
  models: ModelInfo[];
  sessions: SessionInfo[];
  /** Where sessions and runs are stored (null: an older engine that does not say). */
  store: StoreView | null;
  /** Problems (failed commands, feed warnings): listed as errors (see addError, clearErrors, fadeErrors). */
  errors: ErrorNote[];
  /** Information (where the tick size came from, ...): shown calmly, never counted among the errors. */
  notices: { t: number; where: string; message: string }[];
}

export const useDesk = create<DeskState>(() => ({
  link: 'connecting',
  loaded: false,
  status: null,
  book: null,
  portfolio: null,
  signals: [],
  fills: [],
  features: null,
  signalCount: 0,
  threshold: 0,
  whatIf: null,
  collect: null,
  retrainProgress: null,
  retrain: null,
  backtestProgress: null,
  backtest: null,
  models: [],
  sessions: [],
  store: null,
  errors: [],
  notices: [],
}));

type Note = { t: number; where: string; message: string };

/**
 * An error as listed: `key` names the condition it is tied to (the feed being down, a collection): it stays until
 * that ends (app/cleared). Without a key it is a one-off, which fades ERROR_FADE_MS after it was shown.
 */
export type ErrorNote = Note & { key?: string; shownAt: number };

/** How long a one-off error stays (unless the pointer rests on it). */
export const ERROR_FADE_MS = 20_000;

/**
 * The list with `e` last; the same problem said again (a retried command, a flapping feed) is listed once, and a
 * newer error of a condition replaces the older ("reconnecting in 5 s", then "in 10 s").
 */
export function addError(errors: ErrorNote[], e: Note & { key?: string }, now = Date.now()): ErrorNote[] {
  const rest = errors.filter(
    (x) => (x.where !== e.where || x.message !== e.message) && (e.key === undefined || x.key !== e.key),
  );
  return [...rest.slice(-4), { ...e, shownAt: now }];
}

/** Without the errors of a condition that ended. */
export function clearErrors(errors: ErrorNote[], key: string): ErrorNote[] {
  return errors.some((x) => x.key === key) ? errors.filter((x) => x.key !== key) : errors;
}

/** Without the one-off errors shown more than `fadeMs` ago (the same array when nothing goes). */
export function fadeErrors(errors: ErrorNote[], now: number, fadeMs = ERROR_FADE_MS): ErrorNote[] {
  const keep = errors.filter((x) => x.key !== undefined || now - x.shownAt < fadeMs);
  return keep.length === errors.length ? errors : keep;
}

export function reportError(where: string, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  useDesk.setState((s) => ({ errors: addError(s.errors, { t: Date.now(), where, message }) }));
}

/**
 * Whether a job's progress event is for the job this page follows: a page starts following with job id '' (set
 * when its button is pressed) and claims the next job it hears begin (`first`: queued, or starting at 0); other
 * jobs (another page's, running ahead of it) do not overwrite its progress. Nothing followed, or the followed job
 * over (`ended`): it shows what runs (a live retraining round, say).
 */
export function follows(
  mine: { jobId: string } | null,
  ended: boolean,
  jobId: string,
  first: boolean,
): boolean {
  return !mine || ended || mine.jobId === jobId || (mine.jobId === '' && first);
}

function applySnapshot(snap: Snapshot): void {
  prices.reset(snap.prices);
  predictions.reset(snap.predictions);
  equity.reset(snap.equity);
  market.resetTrades(snap.trades ?? []);
  market.clearBook();
  if (snap.book) market.addBook(snap.book);
  useDesk.setState({
    loaded: true,
    status: snap.status,
    book: snap.book,
    portfolio: snap.portfolio,
    signals: snap.signals.slice(-TAPE),
    fills: snap.fills.slice(-TAPE),
    threshold: snap.status.threshold,
    collect: snap.collect,
    retrain: snap.retrain,
    models: snap.models,
    sessions: snap.sessions,
    store: snap.store ?? null,
    notices: snap.notices,
    features: snap.features ?? null,
  });
}

/** Wires the client's events into the store; fetches a snapshot on every (re)connect. */
export function bindClient(client: Client): () => void {
  const offs: (() => void)[] = [];
  const hello = () =>
    client
      .invoke('app/hello', { version: IPC_VERSION })
      .then(applySnapshot)
      .catch((e) => reportError('connect', e));
  offs.push(
    client.onLink((link) => {
      useDesk.setState({ link });
      if (link === 'open') void hello();
    }),
  );
  const set = useDesk.setState;
  offs.push(
    client.on('market/book', (book) => {
      market.addBook(book);
      set({ book });
    }),
    client.on('market/trades', (bars) => market.addTrades(bars)),
    client.on('market/prices', (p) => prices.append(p)),
    client.on('model/predictions', (p) => predictions.append(p)),
    client.on('trading/equity', (p) => equity.append(p)),
    client.on('model/features', (features) => set({ features })),
    client.on('trading/signals', (sig) =>
      set((s) => ({
        signals: [...s.signals, ...sig].slice(-TAPE),
        signalCount: s.signalCount + sig.filter((x) => x.signal !== 0).length,
      })),
    ),
    client.on('trading/fills', (f) => set((s) => ({ fills: [...s.fills, ...f].slice(-TAPE) }))),
    client.on('trading/portfolio', (portfolio) => set({ portfolio })),
    client.on('trading/threshold', ({ threshold }) => set({ threshold })),
    client.on('app/status', (status) => set({ status })),
    client.on('collect/progress', (collect) => set({ collect })),
    client.on('retrain/progress', (p) =>
      set((s) =>
        follows(
          s.retrainProgress,
          s.retrainProgress?.phase === 'done' || s.retrainProgress?.phase === 'failed',
          p.jobId,
          p.phase === 'queued' || p.fraction === 0,
        )
          ? { retrainProgress: p }
          : {},
      ),
    ),
    client.on('retrain/result', (retrain) => set({ retrain })),
    client.on('backtest/progress', (p) =>
      set((s) =>
        // Cleared (null) when the followed backtest ends.
        follows(s.backtestProgress, false, p.jobId, p.ahead !== undefined || p.fraction === 0)
          ? { backtestProgress: p }
          : {},
      ),
    ),
    client.on('backtest/result', (backtest) =>
      set((s) => ({
        backtest,
        backtestProgress: s.backtestProgress?.jobId === backtest.jobId ? null : s.backtestProgress,
      })),
    ),
    client.on('sessions/changed', (sessions) => set({ sessions })),
    client.on('models/changed', (models) => set({ models })),
    client.on('app/error', (e) => set((s) => ({ errors: addError(s.errors, e) }))),
    client.on('app/cleared', ({ key }) => set((s) => ({ errors: clearErrors(s.errors, key) }))),
    client.on('app/notice', (n) => set((s) => ({ notices: [...s.notices.slice(-2), n] }))),
  );
  return () => offs.forEach((f) => f());
}
