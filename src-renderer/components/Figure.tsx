// A headline figure, or "—" with the reason on hover when it is not reliable (the verdicts of
// src-shared/reliability.ts, the same the CLI and the HTML report print): never a huge or empty number.
import type { ReactNode } from 'react';
import { NOT_SHOWN } from '../../src-shared/reliability.ts';

export function Figure({
  reason,
  children,
  testId,
  className,
}: {
  reason: string | null;
  children: ReactNode;
  testId?: string;
  className?: string;
}) {
  if (reason === null)
    return (
      <span data-testid={testId} className={className}>
        {children}
      </span>
    );
  return (
    <span data-testid={testId} className="dim" title={`Not shown: ${reason}`} data-not-shown={reason}>
      {NOT_SHOWN}
    </span>
  );
}
