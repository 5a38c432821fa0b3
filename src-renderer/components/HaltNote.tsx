// The risk halt in force (or the last one, once trading resumed): when trading stopped and why, in the words every
// other view uses ("halted at 14:03:12: daily loss limit 2.00% reached (−2.13%, −21.30)").
import { formatHalt, type RiskHalt } from '../../src-shared/riskHalt.ts';

export function HaltNote({ halts }: { halts: readonly RiskHalt[] | undefined }) {
  if (!halts || halts.length === 0) return null;
  const inForce = [...halts].reverse().find((h) => h.resumedTs === null);
  const shown = inForce ?? halts[halts.length - 1];
  const earlier = halts.length - 1;
  return (
    <p
      className={inForce ? 'halt-note halted' : 'halt-note dim'}
      role="status"
      data-testid="risk-halt"
      title={halts.map((h) => formatHalt(h)).join('\n')}
    >
      {inForce ? 'Trading halted' : 'Risk halt'}: {formatHalt(shown)}
      {earlier > 0 ? ` (and ${earlier} earlier)` : ''}
    </p>
  );
}
