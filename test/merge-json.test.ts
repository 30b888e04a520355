import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMergePatch, diffMergePatch, mergeJson } from '../src/model/merge-json.js';
import { composeMergePatches, NOT_COMPOSABLE } from '../src/plugins/coalescing/coalesce.js';

const value = fc.oneof(
  fc.integer({ min: 0, max: 5 }),
  fc.constantFrom('a', 'b', 'c'),
  fc.boolean(),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
);
const doc = fc.dictionary(
  fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5'),
  fc.oneof(value, fc.dictionary(fc.constantFrom('n1', 'n2', 'n3'), value)),
);
/** An edit: per key, keep, delete, or set a new value. */
const edit = fc.dictionary(
  fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5', 'k6'),
  fc.oneof(fc.constant('delete' as const), value),
);

function applyEdit(
  base: Record<string, unknown>,
  e: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(e)) {
    if (v === 'delete') delete out[k];
    else out[k] = v;
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

describe('three-way JSON merge (property-tested)', () => {
  it('keeps local-only and remote-only changes and sends every true conflict to the tie-breaker', () => {
    fc.assert(
      fc.property(
        doc,
        edit,
        edit,
        fc.constantFrom('local' as const, 'server' as const),
        (base, le, re, tieBreaker) => {
          const local = applyEdit(base, le);
          const server = applyEdit(base, re);
          const conflicts: string[] = [];
          const merged = mergeJson(
            { base, local, server },
            { tieBreaker, onConflict: (path) => conflicts.push(path.join('.')) },
          ) as Record<string, unknown>;
          for (const key of new Set([
            ...Object.keys(local),
            ...Object.keys(server),
            ...Object.keys(base),
          ])) {
            const changedL = !same(local[key], base[key]);
            const changedR = !same(server[key], base[key]);
            if (changedL && !changedR) expect(merged[key]).toEqual(local[key]);
            if (changedR && !changedL) expect(merged[key]).toEqual(server[key]);
            if (!changedL && !changedR) expect(merged[key]).toEqual(base[key]);
            if (changedL && changedR && !same(local[key], server[key])) {
              expect(conflicts.some((c) => c === key || c.startsWith(`${key}.`))).toBe(true);
            }
            if (changedL && changedR && same(local[key], server[key]))
              expect(merged[key]).toEqual(local[key]);
          }
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('merges nested objects key by key and respects deletions', () => {
    const base = { a: { x: 1, y: 1 }, gone: true, keep: 1 };
    const local = { a: { x: 2, y: 1 }, keep: 1 };
    const server = { a: { x: 1, y: 3 }, gone: true, keep: 1, added: 'r' };
    expect(mergeJson({ base, local, server })).toEqual({ a: { x: 2, y: 3 }, keep: 1, added: 'r' });
  });

  it('merge patches: apply, diff and compose agree', () => {
    fc.assert(
      fc.property(doc, doc, doc, (a, b, c) => {
        expect(applyMergePatch(a, diffMergePatch(a, b))).toEqual(b);
        const p1 = diffMergePatch(a, b);
        const p2 = diffMergePatch(b, c);
        const composed = composeMergePatches(p1, p2);
        if (composed !== NOT_COMPOSABLE) {
          expect(applyMergePatch(a, composed)).toEqual(applyMergePatch(applyMergePatch(a, p1), p2));
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
