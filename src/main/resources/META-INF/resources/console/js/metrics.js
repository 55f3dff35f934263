// Reads Prometheus text (/q/metrics) into samples: {name, labels, value}.

export function parse(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

/** The sum of every sample of {name} whose labels match {where} (a label to value map, or a predicate). */
export function sum(samples, name, where) {
  return samples.filter(s => s.name === name && matches(s.labels, where)).reduce((a, s) => a + s.value, 0);
}

function matches(labels, where) {
  if (!where) return true;
  if (typeof where === 'function') return where(labels);
  return Object.entries(where).every(([k, v]) => labels[k] === v);
}

/** Cumulative histogram buckets of {name}_bucket summed over series: [[le, count]...] by le. */
export function buckets(samples, name, where) {
  const byLe = new Map();
  for (const s of samples) {
    if (s.name !== name + '_bucket' || !matches(s.labels, where)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) || 0) + s.value);
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * The q-quantile of the observations between two scrapes of the same cumulative buckets, by linear
 * interpolation inside the bucket (as Prometheus's histogram_quantile does). NaN without observations.
 */
export function quantile(q, before, after) {
  const prev = new Map(before);
  const delta = after.map(([le, c]) => [le, Math.max(0, c - (prev.get(le) || 0))]);
  const total = delta.length ? delta[delta.length - 1][1] : 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let lower = 0, below = 0;
  for (const [le, count] of delta) {
    if (count >= rank) {
      if (le === Infinity) return lower;
      const inBucket = count - below;
      return inBucket <= 0 ? le : lower + (le - lower) * (rank - below) / inBucket;
    }
    lower = le === Infinity ? lower : le;
    below = count;
  }
  return lower;
}
