// The rule schema as the config file, the API and the CLI all see it: defaults that neither flood nor miss,
// and every bad field refused with its path and reason.
import { describe, expect, it } from 'vitest';
import { RuleSchema, checkRuleCameras } from '../../config/rule.ts';
import { validateConfig, ConfigError } from '../../config/load.ts';

const issues = (input: unknown) => {
  const r = RuleSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('rule schema', () => {
  it('fills the documented defaults', () => {
    const r = RuleSchema.parse({ id: 'riders', kind: 'detect', question: 'motorcycle riders', attributes: ['helmet:boolean'], condition: { where: { helmet: false } } });
    expect(r).toMatchObject({ enabled: true, cameras: 'all', anchor: 'bottom', trigger: { n: 2, of: 3 }, end: { negatives: 3, maxSeconds: 3600 }, cooldown: 60, severity: 'alert' });
  });

  it('refuses each bad field with its path', () => {
    expect(issues({ id: 'a', kind: 'detect', question: 'x', zones: { cam: [[[0, 0], [1.5, 0], [1, 1]]] } })).toEqual([expect.stringMatching(/^zones\.cam\.0\.1\.0: /)]);
    expect(issues({ id: 'a', kind: 'yesno', question: '   ' })).toEqual(['question: the question is empty']);
    expect(issues({ id: 'a', kind: 'guess', question: 'x' })[0]).toMatch(/^kind: /);
    expect(issues({ id: 'a', kind: 'yesno', question: 'x', trigger: { n: 4, of: 3 } })).toEqual(['trigger.n: n (4) cannot exceed of (3)']);
    expect(issues({ id: 'a', kind: 'yesno', question: 'x', condition: { min: 2 } })).toEqual(['condition.min: does not apply to yesno rules (use answer)']);
    expect(issues({ id: 'a', kind: 'detect', question: 'x', condition: { where: { helmet: false } } })[0]).toMatch(/^condition\.where\.helmet: "helmet" is not a declared attribute/);
    expect(issues({ id: 'a', kind: 'detect', question: 'x', attributes: ['helmet:maybe'] })[0]).toMatch(/^attributes\.0: .*unknown type "maybe"/);
    expect(issues({ id: 'a', kind: 'yesno', question: 'x', schedule: { timezone: 'Mars/Olympus', windows: [{ start: '08:00', end: '18:00' }] } })[0]).toMatch(/^schedule\.timezone: /);
  });

  it('checks the cameras a rule names against the configured ones', () => {
    const rule = RuleSchema.parse({ id: 'a', kind: 'yesno', question: 'x', cameras: ['gate', 'yard'], every: 0.5 });
    expect(checkRuleCameras(rule, [{ id: 'gate', sampleInterval: 1 }])).toEqual([
      { path: ['cameras', 1], message: 'unknown camera "yard"' },
      { path: ['every'], message: 'must be at least the sample interval of the cameras it watches (1 s)' },
    ]);
  });

  it('reports a bad rule in the config file with its full path, and duplicate ids', () => {
    const cfg = { cameras: [{ id: 'gate', source: 'testsrc' }], rules: [{ id: 'r', kind: 'count', question: 'cars', cameras: ['gaet'] }, { id: 'r', kind: 'yesno', question: 'fire?' }] };
    const err = (() => {
      try {
        validateConfig(cfg, 'vigil.yaml');
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['rules[0].cameras[0]', 'rules[1].id']));
  });
});
