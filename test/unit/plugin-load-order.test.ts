import { expect } from 'chai';
import fc from 'fast-check';
import { resolveLoadOrder } from '../../core/kernel/plugins/load-order';
import type { PluginManifest } from '../../core/kernel/plugins/types';

const plugin = (id: string, requires: Record<string, string> = {}, version = '1.0.0'): [string, PluginManifest] => [
  id,
  { id, name: id, version, sdk: '^1.0.0', requires },
];

describe('plugin load order', () => {
  it('puts dependencies first and breaks ties by id', () => {
    const { order, problems } = resolveLoadOrder(
      new Map([plugin('mod_zeta'), plugin('enrol_program', { assign_audience: '^1.0.0' }), plugin('assign_audience'), plugin('block_alpha')]),
    );
    expect(problems.size).to.equal(0);
    expect(order).to.deep.equal(['assign_audience', 'block_alpha', 'enrol_program', 'mod_zeta']);
  });

  it('marks every member of a cycle, and only them', () => {
    const { order, problems } = resolveLoadOrder(
      new Map([
        plugin('local_a', { local_b: '*' }),
        plugin('local_b', { local_c: '*' }),
        plugin('local_c', { local_a: '*' }),
        plugin('local_d', { local_d: '*' }),
        plugin('local_e'),
      ]),
    );
    expect([...problems].map(([id, p]) => [id, p.code]).sort()).to.deep.equal([
      ['local_a', 'PM008-REQUIRES-CYCLE'],
      ['local_b', 'PM008-REQUIRES-CYCLE'],
      ['local_c', 'PM008-REQUIRES-CYCLE'],
      ['local_d', 'PM008-REQUIRES-CYCLE'],
    ]);
    expect(problems.get('local_a')!.message).to.contain('local_a -> local_b -> local_c -> local_a');
    expect(order).to.deep.equal(['local_e']);
  });

  it('reports a missing dependency and a dependency of the wrong version', () => {
    const { order, problems } = resolveLoadOrder(
      new Map([plugin('local_a', { local_ghost: '^1.0.0' }), plugin('local_b', { local_c: '^2.0.0' }), plugin('local_c', {}, '1.4.0')]),
    );
    expect(problems.get('local_a')!.code).to.equal('PM006-REQUIRES-MISSING');
    expect(problems.get('local_b')!.code).to.equal('PM007-REQUIRES-VERSION');
    expect(problems.get('local_b')!.message).to.contain('local_c is 1.4.0');
    expect(order).to.deep.equal(['local_c']);
  });

  it('does not call a dependency with a broken manifest "missing": the dependent is held back later', () => {
    const { order, problems } = resolveLoadOrder(new Map([plugin('local_a', { local_broken: '*' })]), new Set(['local_broken']));
    expect(problems.size).to.equal(0);
    expect(order).to.deep.equal(['local_a']);
  });

  it('always lists each sound plugin once, after everything it requires', () => {
    const ids = ['local_a', 'local_b', 'local_c', 'local_d', 'local_e', 'local_f'];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })), { maxLength: 12 }), (edges) => {
        const requires = new Map(ids.map((id) => [id, {} as Record<string, string>]));
        for (const [from, to] of edges) requires.get(ids[from]!)![ids[to]!] = '*';
        const { order, problems } = resolveLoadOrder(new Map(ids.map((id) => plugin(id, requires.get(id)))));
        expect(new Set(order).size).to.equal(order.length);
        expect(order.length + problems.size).to.equal(ids.length);
        for (const id of order) {
          for (const dep of Object.keys(requires.get(id)!)) {
            if (!problems.has(dep)) expect(order.indexOf(dep)).to.be.lessThan(order.indexOf(id));
          }
        }
      }),
    );
  });
});
