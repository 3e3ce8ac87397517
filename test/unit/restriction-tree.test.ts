/**
 * The restrict_access tree engine on its own: Moodle's operators with De Morgan negation through
 * nested trees, which failing conditions hide or grey an activity, the explanation a learner reads,
 * and failing closed on what cannot be evaluated. Conditions are stubs (a flag per learner).
 */
import { expect } from 'chai';
import winston from 'winston';
import { TreeEngine } from '../../plugins/restrict_access/tree';
import type { ConditionNode, RestrictedCourse, RestrictionCondition } from '../../core/index';

/** `{type: "flag", name}`: met when the learner has that flag. */
const flag: RestrictionCondition<ConditionNode & { name: string }, Set<string>> = {
  label: 'Flag',
  schema: {
    type: 'object',
    properties: { type: { const: 'flag' }, name: { type: 'string', minLength: 1 } },
    required: ['type', 'name'],
    additionalProperties: false,
  },
  load: ({ userId }) => Promise.resolve(new Set(FLAGS[userId] ?? [])),
  evaluate: (node, flags) => flags.has(node.name),
  explain: (node, negated) => (negated ? `you are not ${node.name}` : `you are ${node.name}`),
};
const FLAGS: Record<number, string[]> = { 1: [], 2: ['red'], 3: ['red', 'blue'], 4: ['blue'] };

const logger = winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
const engine = new TreeEngine(
  (type) => (type === 'flag' ? (flag as unknown as RestrictionCondition) : undefined),
  logger,
  () => 0,
);
const red = { type: 'flag', name: 'red' };
const blue = { type: 'flag', name: 'blue' };

async function accessFor(userId: number, availability: unknown) {
  const course: RestrictedCourse = { id: 1, activities: [{ id: 10, name: 'Thing', type: 'page', maxGrade: 0, availability }] };
  return (await engine.evaluate(userId, course)).get(10)!;
}
const opens = async (availability: unknown) => Promise.all([1, 2, 3, 4].map(async (u) => (await accessFor(u, availability)).available));

describe('restriction tree engine', () => {
  it('joins with & and |, and negates with !& (not all) and !| (none), as Moodle does', async () => {
    // learners:                                     none   red   red+blue  blue
    expect(await opens({ op: '&', c: [red, blue] })).to.deep.equal([false, false, true, false]);
    expect(await opens({ op: '|', c: [red, blue] })).to.deep.equal([false, true, true, true]);
    expect(await opens({ op: '!&', c: [red, blue] })).to.deep.equal([true, true, false, true]);
    expect(await opens({ op: '!|', c: [red, blue] })).to.deep.equal([true, false, false, false]);
  });

  it('carries negation through nested trees (De Morgan) and explains each condition negated', async () => {
    // none of (red, and not-all-of (blue)) = not red and (not (not blue)) = not red and blue
    const tree = { op: '!|', c: [red, { op: '!&', c: [blue] }], showc: [true, true] };
    expect(await opens(tree)).to.deep.equal([false, false, false, true]);
    expect((await accessFor(3, tree)).explanation).to.equal('Available if you are not red.');
    expect((await accessFor(1, tree)).explanation).to.equal('Available if you are blue.');
    expect((await accessFor(2, tree)).explanation).to.equal('Available if you are not red and you are blue.');
  });

  it('explains an "any" by every branch and an "all" by the failing ones only', async () => {
    expect((await accessFor(1, { op: '|', c: [red, { op: '&', c: [blue, red] }] })).explanation).to.equal(
      'Available if one of these holds: you are red or (you are blue and you are red).',
    );
    expect((await accessFor(4, { op: '&', c: [red, blue] })).explanation).to.equal('Available if you are red.');
  });

  it('hides when a failing child of an "all" root has showc false, or an "any" root has show false; greys otherwise', async () => {
    const all = { op: '&', c: [red, blue], showc: [true, false] };
    expect(await accessFor(2, all)).to.deep.include({ visible: false, available: false }); // blue fails: hidden
    expect(await accessFor(4, all)).to.deep.include({ visible: true, available: false }); // only red fails: greyed
    expect(await accessFor(1, { op: '|', c: [red, blue], show: false })).to.deep.include({ visible: false });
    expect(await accessFor(1, { op: '|', c: [red, blue] })).to.deep.include({ visible: true });
    expect(await accessFor(3, all)).to.deep.equal({ visible: true, available: true, explanation: null });
  });

  it('fails closed: an unknown condition is not met even negated, and a stored value that is no tree locks the activity', async () => {
    expect(await opens({ op: '!&', c: [{ type: 'gone', x: 1 }] })).to.deep.equal([false, false, false, false]);
    expect((await accessFor(1, { op: '&', c: [{ type: 'gone' }] })).explanation).to.equal('Available if a condition this site cannot check right now.');
    expect(await accessFor(2, ['not', 'a', 'tree'])).to.deep.include({ available: false });
    expect(await accessFor(2, { op: '&', c: [] })).to.deep.include({ available: true });
  });

  it('checks a tree before it is saved, naming the path of each bad node', async () => {
    const course: RestrictedCourse = { id: 1, activities: [] };
    const paths = async (tree: unknown) => (await engine.check(tree, course)).map((d) => `${d.path} ${d.code}`);
    expect(await paths({ op: '&', c: [red, { op: '|', c: [{ type: 'flag', name: '' }] }], showc: [true, true] })).to.deep.equal(['/c/1/c/0/name minLength']);
    expect(await paths({ op: '&', c: [{ op: '|', c: [red], show: true }] })).to.deep.equal(['/c/0/show additionalProperties']);
    expect(await paths({ op: '|', c: [red], showc: [true] })).to.deep.equal(['/showc WRONG_SHOW']);
    expect(await paths({ op: '&', c: [{ op: '|', c: [] }] })).to.deep.equal(['/c/0/c REQUIRED']);
    expect(await paths({ op: 'xor', c: [{ type: 'mystery' }] })).to.deep.equal(['/op enum', '/c/0/type UNKNOWN_CONDITION']);
    expect(await paths('red')).to.deep.equal([' NOT_AN_OBJECT']);
    let deep: unknown = red;
    for (let i = 0; i < 12; i++) deep = { op: '&', c: [deep] };
    expect((await paths(deep)).some((p) => p.endsWith('TOO_DEEP'))).to.equal(true);
  });
});
