import { describe, it, expect } from 'vitest';
import { buildQuestion, maxChars, LIMITS, QUESTION_KINDS } from '../../pipelines/vlm/questions.ts';
import { parseAttributeSpec } from '../../pipelines/vlm/attributes.ts';

type Schema = Record<string, any>;

/** Every array has maxItems, every string maxLength or an enum, every object closed: a finite grammar. */
function unbounded(s: Schema, path = '$'): string[] {
  const bad: string[] = [];
  if (s.type === 'array') {
    if (typeof s.maxItems !== 'number') bad.push(`${path}: array without maxItems`);
    bad.push(...unbounded(s.items, `${path}[]`));
  } else if (s.type === 'string') {
    if (typeof s.maxLength !== 'number' && !Array.isArray(s.enum)) bad.push(`${path}: string without maxLength`);
  } else if (s.type === 'object') {
    if (s.additionalProperties !== false) bad.push(`${path}: open object`);
    for (const [k, v] of Object.entries(s.properties)) bad.push(...unbounded(v as Schema, `${path}.${k}`));
    expect(s.required).toEqual(Object.keys(s.properties));
  } else if (!['integer', 'number', 'boolean'].includes(s.type)) bad.push(`${path}: unknown type ${s.type}`);
  return bad;
}

const attrs = ['helmet:boolean', 'color:string', 'age:number', 'role:enum(worker|visitor)'].map(parseAttributeSpec);

describe('buildQuestion', () => {
  it.each(QUESTION_KINDS)('%s: schema bounded everywhere, token budget finite', (kind) => {
    for (const family of ['qwen2.5-vl', 'qwen3-vl', 'gemini'] as const) {
      const q = buildQuestion(kind, 'person', { family, attributes: kind === 'detect' || kind === 'count' ? attrs : [] });
      expect(unbounded(q.schema)).toEqual([]);
      expect(q.maxTokens).toBeGreaterThan(10);
      expect(q.maxTokens).toBeLessThanOrEqual(LIMITS.maxTokens);
    }
  });

  it('detect (Qwen2.5-VL): cookbook phrasing, bbox_2d + label + attributes as extra keys', () => {
    const q = buildQuestion('detect', 'person', { family: 'qwen2.5-vl', attributes: attrs, sent: { width: 1316, height: 728 }, maxItems: 5 });
    expect(q.prompt).toMatch(/^Outline the position of each person and output all the coordinates in JSON format\./);
    expect(q.prompt).toContain('"helmet" (true or false)');
    expect(q.prompt).toContain('"role" (one of "worker", "visitor")');
    expect(q.schema).toMatchObject({ type: 'array', maxItems: 5 });
    const item = q.schema.items as Schema;
    expect(Object.keys(item.properties)).toEqual(['bbox_2d', 'label', 'helmet', 'color', 'age', 'role']);
    expect(item.properties.bbox_2d).toEqual({ type: 'array', items: { type: 'integer', minimum: 0, maximum: 1316 }, minItems: 4, maxItems: 4 });
    expect(item.properties.helmet).toEqual({ type: 'boolean' });
    expect(item.properties.role).toEqual({ type: 'string', enum: ['worker', 'visitor'] });
  });

  it('detect (Qwen3-VL) bounds coordinates at 1000; Gemini asks for box_2d y-first', () => {
    const q3 = buildQuestion('detect', 'car', { family: 'qwen3-vl', sent: { width: 1312, height: 736 } });
    expect((q3.schema.items as Schema).properties.bbox_2d.items.maximum).toBe(1000);
    const g = buildQuestion('detect', 'car', { family: 'gemini' });
    expect(Object.keys((g.schema.items as Schema).properties)).toEqual(['box_2d', 'label']);
    expect(g.prompt).toContain('[ymin, xmin, ymax, xmax] normalized to 0-1000');
  });

  it('point: point_2d; named keypoints become a label enum plus an object index', () => {
    const plain = buildQuestion('point', 'rolling pin', { family: 'qwen2.5-vl' });
    expect(Object.keys((plain.schema.items as Schema).properties)).toEqual(['point_2d', 'label']);
    const kp = buildQuestion('point', 'person', { family: 'qwen2.5-vl', attributes: ['head:point', 'left_hand:point'].map(parseAttributeSpec), maxItems: 4 });
    const item = kp.schema.items as Schema;
    expect(item.properties.label).toEqual({ type: 'string', enum: ['head', 'left_hand'] });
    expect(item.properties.object).toEqual({ type: 'integer', minimum: 0, maximum: 3 });
    expect(kp.schema.maxItems).toBe(8);
    expect(kp.prompt).toContain('Point to the head and left hand of each person');
    const g = buildQuestion('point', 'cup', { family: 'gemini' });
    expect(Object.keys((g.schema.items as Schema).properties)).toEqual(['point', 'label']);
    expect(g.prompt).toContain('"point" as [y, x] normalized to 0-1000');
  });

  it('count: the cookbook "first output bbox ... then answer how many" form', () => {
    const q = buildQuestion('count', 'cars', { family: 'qwen2.5-vl' });
    expect(q.prompt).toBe(
      'Please first output bbox coordinates and names of every cars in this image in JSON format, and then answer how many cars are there in the image.',
    );
    expect(Object.keys(q.schema.properties as Schema)).toEqual(['objects', 'count']);
  });

  it('yesno and describe', () => {
    const y = buildQuestion('yesno', 'Is the gate open', { family: 'qwen2.5-vl' });
    expect(y.prompt.startsWith('Is the gate open? ')).toBe(true);
    expect((y.schema.properties as Schema).answer).toEqual({ type: 'string', enum: ['yes', 'no'] });
    const d = buildQuestion('describe', 'Describe the scene.', { family: 'qwen2.5-vl' });
    expect((d.schema.properties as Schema).description.maxLength).toBe(LIMITS.descriptionLength);
  });

  it('a clip of frames says so, and coordinates refer to the last frame', () => {
    const q = buildQuestion('detect', 'person', { family: 'qwen2.5-vl', frames: 4 });
    expect(q.prompt).toMatch(/^These 4 images are frames of a short video clip, in time order\. Give coordinates in the last frame\. Outline/);
    expect(buildQuestion('yesno', 'Did anyone enter?', { family: 'qwen2.5-vl', frames: 3 }).prompt).not.toContain('last frame');
  });

  it('token budget covers the longest answer the schema allows', () => {
    const q = buildQuestion('detect', 'person', { family: 'qwen2.5-vl', maxItems: 2, sent: { width: 644, height: 476 } });
    const longest = JSON.stringify(
      Array(2).fill({ bbox_2d: [644, 644, 644, 644], label: 'x'.repeat(LIMITS.labelLength) }),
    );
    expect(maxChars(q.schema)).toBeGreaterThanOrEqual(longest.length);
    expect(q.maxTokens).toBeGreaterThanOrEqual(longest.length);
  });

  it('rejects empty questions, misplaced attributes and bad limits', () => {
    expect(() => buildQuestion('detect', '  ', { family: 'qwen2.5-vl' })).toThrow(/empty/);
    expect(() => buildQuestion('yesno', 'ok?', { family: 'qwen2.5-vl', attributes: attrs })).toThrow(/do not apply/);
    expect(() => buildQuestion('detect', 'p', { family: 'qwen2.5-vl', attributes: [parseAttributeSpec('head:point')] })).toThrow(/only apply to point/);
    expect(() => buildQuestion('detect', 'p', { family: 'qwen2.5-vl', maxItems: 0 })).toThrow(/maxItems/);
  });
});

describe('parseAttributeSpec', () => {
  it('reads every type', () => {
    expect(parseAttributeSpec('helmet:boolean')).toEqual({ name: 'helmet', type: { kind: 'boolean' } });
    expect(parseAttributeSpec(' color : enum(red|dark blue) ')).toEqual({ name: 'color', type: { kind: 'enum', values: ['red', 'dark blue'] } });
    expect(parseAttributeSpec('n:number').type).toEqual({ kind: 'number' });
  });
  it.each([
    ['helmet', /expected name:type/],
    ['helmet:bool', /unknown type "bool"/],
    ['label:string', /already uses/],
    ['1x:string', /name must be/],
    ['c:enum(red)', /at least two values/],
  ])('rejects %s', (spec, msg) => {
    expect(() => parseAttributeSpec(spec)).toThrow(msg);
  });
});
