import { action, defineFlow, scaffold } from '../src/core/index.ts';

/**
 * A linear flow of `size` form steps (`a0`, `a1`, ...) nested in scaffolds of at most ten
 * children: 1,000 actions make three levels of scaffolds. The benchmarks' flow of a given size.
 */
export function flowOfSize(size: number) {
  const level = (ids: string[], path: string): ReturnType<typeof action>[] | ReturnType<typeof scaffold>[] => {
    if (ids.length <= 10) return ids.map((id) => action({ id, title: id }));
    const chunk = Math.ceil(ids.length / 10);
    return Array.from({ length: Math.ceil(ids.length / chunk) }, (_, i) =>
      scaffold({ id: `${path}-${i}`, title: `Part ${i}`, children: level(ids.slice(i * chunk, (i + 1) * chunk), `${path}-${i}`) }),
    );
  };
  return defineFlow({ id: `bench-${size}`, version: 1, title: 'Bench', children: level(Array.from({ length: size }, (_, i) => `a${i}`), 's') });
}

/**
 * A flow of `actions` form steps spread over `depth` nested scaffolds (each level holds its
 * share of the actions, then the next level): 1,000 actions 10 deep is the compile benchmark's flow.
 */
export function deepFlow(actions: number, depth: number) {
  const perLevel = Math.ceil(actions / depth);
  const level = (d: number): ReturnType<typeof scaffold> =>
    scaffold({
      id: `level${d}`,
      title: `Level ${d}`,
      children: [
        ...Array.from({ length: Math.min(perLevel, actions - d * perLevel) }, (_, i) => action({ id: `d${d}a${i}`, title: `Step ${i}` })),
        ...(d + 1 < depth ? [level(d + 1)] : []),
      ],
    });
  return defineFlow({ id: `deep-${actions}-${depth}`, version: 1, title: 'Deep', children: [level(0)] });
}
