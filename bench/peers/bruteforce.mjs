// 'bruteforce-js': exact inner-product scan in plain JS (one thread). Index = the raw vectors.
import { searchOne } from '../lib/exact.mjs';
import { timeQueries } from './common.mjs';

export const engine = 'bruteforce-js';
export const runtime = 'js';

export async function run({ base, queries, n, d, k = 10 }) {
  const b = base.subarray(0, n * d);
  const t = timeQueries(queries, d, k, (q) => searchOne(b, n, d, q, k), { warmup: 20 });
  return [{ setting: 'exact', build_s: 0, bytes: 4 * d * n, build_threads: 1, ...t }];
}
