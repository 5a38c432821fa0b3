// What the app draws for risk halts and unreliable figures: the halt note (in force, or the last one once resumed),
// the equity chart's markers in time order, and "—" with the reason on hover instead of a figure.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { RiskHalt } from '../../src-shared/riskHalt.ts';
import { haltMarkers } from './EquityChart.tsx';
import { Figure } from './Figure.tsx';
import { HaltNote } from './HaltNote.tsx';

const T = Date.UTC(2026, 11, 2, 14, 3, 12);
const daily: RiskHalt = {
  ts: T,
  rule: 'daily_loss',
  reason: 'daily loss limit 2.00% reached (−2.13%, −213.00)',
  resumedTs: null,
  resumeReason: null,
};
const book: RiskHalt = {
  ts: T - 60_000,
  rule: 'book_invalid',
  reason: 'book invalid (sequence)',
  resumedTs: T - 58_000,
  resumeReason: 'a fresh snapshot',
};

describe('halts and figures in the app', () => {
  it('the note names the halt in force with its time and reason', () => {
    const html = renderToStaticMarkup(createElement(HaltNote, { halts: [book, daily] }));
    expect(html).toContain('data-testid="risk-halt"');
    expect(html).toContain('class="halt-note halted"');
    expect(html).toContain(
      'Trading halted: halted at 14:03:12: daily loss limit 2.00% reached (−2.13%, −213.00); still halted at the end (and 1 earlier)',
    );
    const resumed = renderToStaticMarkup(createElement(HaltNote, { halts: [book] }));
    expect(resumed).toContain('class="halt-note dim"');
    expect(resumed).toContain(
      'Risk halt: halted at 14:02:12: book invalid (sequence); resumed at 14:02:14 (a fresh snapshot)',
    );
    expect(renderToStaticMarkup(createElement(HaltNote, { halts: [] }))).toBe('');
  });

  it('markers: a halt above the curve, its resumption below, in time order', () => {
    expect(haltMarkers([daily, book]).map((m) => [m.time, m.shape, m.text])).toEqual([
      [(T - 60_000) / 1000, 'arrowDown', 'halt: book invalid (sequence)'],
      [(T - 58_000) / 1000, 'arrowUp', 'resumed'],
      [T / 1000, 'arrowDown', 'halt: daily loss limit 2.00% reached (−2.13%, −213.00)'],
    ]);
  });

  it('an unreliable figure is "—" with the reason on hover', () => {
    const no = renderToStaticMarkup(createElement(Figure, { reason: 'no round trip', children: '0%' }));
    expect(no).toBe(
      '<span class="dim" title="Not shown: no round trip" data-not-shown="no round trip">—</span>',
    );
    const yes = renderToStaticMarkup(createElement(Figure, { reason: null, children: '55%', testId: 'x' }));
    expect(yes).toBe('<span data-testid="x">55%</span>');
  });
});
