// Natural order for frame file names: `frame_2.png` before `frame_10.png`, as people number frames.
// Runs of digits compare by value (any length, no precision loss), everything else by code point, so the
// order is the same on every machine and locale.

function runs(s: string): string[] {
  return s.match(/\d+|\D+/g) ?? [];
}

export function naturalCompare(a: string, b: string): number {
  const ra = runs(a);
  const rb = runs(b);
  const n = Math.min(ra.length, rb.length);
  for (let i = 0; i < n; i++) {
    const x = ra[i];
    const y = rb[i];
    if (x === y) continue;
    const dx = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const dy = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (dx && dy) {
      const sx = x.replace(/^0+(?=\d)/, '');
      const sy = y.replace(/^0+(?=\d)/, '');
      if (sx.length !== sy.length) return sx.length - sy.length;
      if (sx !== sy) return sx < sy ? -1 : 1;
      if (x.length !== y.length) return y.length - x.length; // same value: more leading zeros first ("01" < "1")
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function naturalSort(names: readonly string[]): string[] {
  return [...names].sort(naturalCompare);
}
