// Numbers in messages and reports as a trader writes them: no exponent (String(0.0000001) is "1e-7") and no float
// noise from sums (0.1 + 0.2 is 0.30000000000000004).

/** A number as plain decimal text: String()'s shortest digits, with any small-number exponent written out. */
export function plainDecimal(v: number): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e-(\d+)$/.exec(String(v));
  return m ? `${m[1]}0.${'0'.repeat(Number(m[4]) - 1)}${m[2]}${m[3] ?? ''}` : String(v);
}

/** A computed quantity or price (a position summed from fills, a mark) to 12 significant digits, as plain text. */
export function plainNumber(v: number): string {
  return Number.isFinite(v) ? plainDecimal(Number(v.toPrecision(12))) : String(v);
}
