// The right column's lower panel: the signals & fills tape or the feature inspector, one at a time (tabs, so that
// neither squeezes the other at 1600×960). The choice is remembered across reloads.
import { useState, type KeyboardEvent } from 'react';
import { FeaturesPanel } from './FeaturesPanel.tsx';
import { Tape } from './Tape.tsx';

type Side = 'tape' | 'features';
const KEY = 'l2desk.sideTab';

function initial(): Side {
  try {
    return localStorage.getItem(KEY) === 'features' ? 'features' : 'tape';
  } catch {
    return 'tape';
  }
}

export function SideTabs() {
  const [side, setSide] = useState<Side>(initial);
  const choose = (s: Side) => {
    setSide(s);
    try {
      localStorage.setItem(KEY, s);
    } catch {
      // Storage refused (private mode): the choice just is not remembered.
    }
  };
  // Arrow keys move between the two tabs, as a tablist should.
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    const next: Side = side === 'tape' ? 'features' : 'tape';
    choose(next);
    document.getElementById(next === 'tape' ? 'tape-h' : 'features-h')?.focus();
  };
  const tab = (s: Side, id: string, label: string) => (
    <button
      role="tab"
      id={id}
      aria-selected={side === s}
      aria-controls={side === s ? `${s}-panel` : undefined}
      tabIndex={side === s ? 0 : -1}
      onClick={() => choose(s)}
      onKeyDown={onKey}
    >
      {label}
    </button>
  );
  const header = (
    <div className="tabs" role="tablist" aria-label="Tape or features">
      {tab('tape', 'tape-h', 'Signals & fills')}
      {tab('features', 'features-h', 'Features')}
    </div>
  );
  return side === 'tape' ? <Tape header={header} /> : <FeaturesPanel header={header} />;
}
