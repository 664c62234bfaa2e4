import { describe, it, expect } from 'vitest';
import { parseAnswer, type ParseContext } from '../../pipelines/vlm/parse.ts';
import { MAX_DEPTH, readJsonValues } from '../../pipelines/vlm/lenient-json.ts';
import { parseAttributeSpec } from '../../pipelines/vlm/attributes.ts';

const qwen = (sentW: number, sentH: number, srcW: number, srcH: number): ParseContext => ({
  family: 'qwen2.5-vl',
  sent: { width: sentW, height: sentH },
  source: { width: srcW, height: srcH },
});
const xyxy = (raw: string, ctx: ParseContext) => parseAnswer(raw, ctx).boxes.map((b) => [b.x1, b.y1, b.x2, b.y2]);
const labels = (raw: string, ctx: ParseContext) => parseAnswer(raw, ctx).boxes.map((b) => b.label);

// Reference figures: roboflow/supervision test/detection/test_vlm.py, test_from_qwen_2_5_vl
// (input_wh = sent size, resolution_wh = source size).
describe('Qwen2.5-VL boxes (pixels of the sent image), supervision figures', () => {
  it('single box 640x640 -> 1280x720', () => {
    const raw = '```json\n    [\n        {"bbox_2d": [10, 20, 110, 120], "label": "cat"}\n    ]\n    ```';
    expect(xyxy(raw, qwen(640, 640, 1280, 720))).toEqual([[20, 22.5, 220, 135]]);
    expect(labels(raw, qwen(640, 640, 1280, 720))).toEqual(['cat']);
  });

  it('same size keeps coordinates', () => {
    const raw = '```json\n[\n{"bbox_2d": [0, 0, 64, 64], "label": "dog"},\n{"bbox_2d": [100, 200, 300, 400], "label": "cat"}\n]\n```';
    expect(xyxy(raw, qwen(640, 640, 640, 640))).toEqual([
      [0, 0, 64, 64],
      [100, 200, 300, 400],
    ]);
  });

  it('640x640 -> 640x480', () => {
    const raw = '```json\n[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}, {"bbox_2d": [50, 100, 150, 200], "label": "dog"}]\n```';
    expect(xyxy(raw, qwen(640, 640, 640, 480))).toEqual([
      [10, 15, 110, 90],
      [50, 75, 150, 150],
    ]);
  });

  it('out-of-bounds box: supervision keeps [-20, 0, 1400, 787.5]; Vigil clips it to the frame', () => {
    const raw = '```json\n[{"bbox_2d": [-10, 0, 700, 700], "label": "dog"}]\n```';
    expect(xyxy(raw, qwen(640, 640, 1280, 720))).toEqual([[0, 0, 1280, 720]]);
  });

  it.each(['some random text without triple backticks', '```json\nnot valid json\n```', '```json\n[]\n```', '', '\n'])(
    'nothing readable in %j gives empty lists',
    (raw) => {
      expect(parseAnswer(raw, qwen(640, 640, 1280, 720))).toEqual({ boxes: [], points: [] });
    },
  );

  it('missing keys: supervision drops the whole answer; Vigil keeps each box that has coordinates', () => {
    const raw = '```json\n[{"bbox_2d": [10, 10, 100, 100]}, {"label": "missing box"}, {"bbox_2d": [50, 60, 110, 120], "unused": "something"}]\n```';
    const r = parseAnswer(raw, { ...qwen(640, 640, 640, 640), defaultLabel: 'thing' });
    expect(r.boxes.map((b) => [b.label, b.x1, b.y1, b.x2, b.y2])).toEqual([
      ['thing', 10, 10, 100, 100],
      ['thing', 50, 60, 110, 120],
    ]);
    expect(r.boxes[1]!.attributes).toEqual({ unused: 'something' });
  });

  it('rejects sizes that are not positive', () => {
    expect(() => parseAnswer('[]', qwen(0, 640, 1280, 720))).toThrow(RangeError);
    expect(() => parseAnswer('[]', qwen(640, 640, 1280, -100))).toThrow(RangeError);
  });
});

// Reference figures: supervision test_from_google_gemini (resolution_wh = source size, 0..1000, y first).
describe('Gemini boxes (box_2d = [ymin, xmin, ymax, xmax] in 0..1000), supervision figures', () => {
  const gemini = (w: number, h: number): ParseContext => ({ family: 'gemini', sent: { width: 1000, height: 1000 }, source: { width: w, height: h } });
  it('single box -> 1000x500', () => {
    expect(xyxy('```json\n[{"box_2d": [100, 200, 300, 400], "label": "cat"}]\n```', gemini(1000, 500))).toEqual([[200, 50, 400, 150]]);
  });
  it('two boxes -> 640x480', () => {
    const raw = '```json\n[{"box_2d": [10, 20, 110, 120], "label": "cat"}, {"box_2d": [50, 100, 150, 200], "label": "dog"}]\n```';
    expect(xyxy(raw, gemini(640, 480))).toEqual([
      [12.8, 4.8, 76.8, 52.8],
      [64, 24, 128, 72],
    ]);
  });
  it('the sent size does not matter in a 0..1000 frame', () => {
    const ctx = { ...gemini(640, 480), sent: { width: 644, height: 476 } };
    expect(xyxy('[{"box_2d": [50, 100, 150, 200], "label": "dog"}]', ctx)).toEqual([[64, 24, 128, 72]]);
  });
});

describe('Qwen3-VL boxes (0..1000, x first)', () => {
  it('divides by 1000, whatever size was sent', () => {
    const ctx: ParseContext = { family: 'qwen3-vl', sent: { width: 1312, height: 736 }, source: { width: 1920, height: 1080 } };
    expect(xyxy('[{"bbox_2d": [100, 200, 300, 400], "label": "car"}]', ctx)).toEqual([[192, 216, 576, 432]]);
    expect(xyxy('[{"bbox_2d": [0, 0, 999, 999], "label": "all"}]', ctx)).toEqual([[0, 0, 1918.08, 1078.92]]);
  });
  it('an EngineInfo frame overrides the family default', () => {
    const ctx: ParseContext = { family: 'qwen2.5-vl', frame: 'norm1000', sent: { width: 640, height: 640 }, source: { width: 2000, height: 1000 } };
    expect(xyxy('[{"bbox_2d": [100, 100, 200, 200]}]', ctx)).toEqual([[200, 100, 400, 200]]);
  });
});

describe('exact mapping, clipping, corner order', () => {
  it('maps a box in the sent frame to the right source pixels', () => {
    // 1920x1080 sent at 1316x728: the sent box covering the whole frame is the whole source frame.
    const ctx = qwen(1316, 728, 1920, 1080);
    expect(xyxy('[{"bbox_2d": [0, 0, 1316, 728], "label": "all"}]', ctx)).toEqual([[0, 0, 1920, 1080]]);
    expect(xyxy('[{"bbox_2d": [329, 182, 658, 364], "label": "q"}]', ctx)).toEqual([[480, 270, 960, 540]]);
  });
  it('orders swapped corners', () => {
    expect(xyxy('[{"bbox_2d": [110, 120, 10, 20], "label": "cat"}]', qwen(640, 640, 1280, 720))).toEqual([[20, 22.5, 220, 135]]);
  });
  it('clips to the frame and drops boxes left with no area', () => {
    const raw = '[{"bbox_2d": [600, 600, 900, 900], "label": "a"}, {"bbox_2d": [700, 10, 800, 20], "label": "outside"}, {"bbox_2d": [5, 5, 5, 9], "label": "flat"}]';
    const r = parseAnswer(raw, qwen(640, 640, 640, 640));
    expect(r.boxes.map((b) => [b.label, b.x1, b.y1, b.x2, b.y2])).toEqual([['a', 600, 600, 640, 640]]);
  });
  it('drops boxes whose coordinates are not four numbers', () => {
    expect(xyxy('[{"bbox_2d": [1, 2, 3], "label": "a"}, {"bbox_2d": ["1", 2, 3, 4], "label": "b"}]', qwen(64, 64, 64, 64))).toEqual([]);
  });
});

describe('tolerant reading (failure modes seen in the wild)', () => {
  const ctx = qwen(100, 100, 100, 100);
  const two = [
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ];
  it('prose and a fence around the JSON', () => {
    const raw = 'Sure! Here are the boxes:\n```json\n[\n  {"bbox_2d": [1, 2, 3, 4], "label": "a"},\n  {"bbox_2d": [5, 6, 7, 8], "label": "b"}\n]\n```\nLet me know if you need more.';
    expect(xyxy(raw, ctx)).toEqual(two);
  });
  it('prose with no fence', () => {
    expect(xyxy('I found [two] items: [{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7, 8], "label": "b"}] in the image.', ctx)).toEqual(two);
  });
  it('Python quotes and literals', () => {
    const raw = "[{'bbox_2d': [1, 2, 3, 4], 'label': 'a', 'helmet': True, 'vest': False, 'note': None}, {'bbox_2d': [5, 6, 7, 8], 'label': \"b's\"}]";
    const r = parseAnswer(raw, ctx);
    expect(r.boxes.map((b) => [b.x1, b.y1, b.x2, b.y2])).toEqual(two);
    expect(r.boxes[0]!.attributes).toEqual({ helmet: true, vest: false, note: null });
    expect(r.boxes[1]!.label).toBe("b's");
  });
  it('trailing commas', () => {
    expect(xyxy('[{"bbox_2d": [1, 2, 3, 4,], "label": "a",}, {"bbox_2d": [5, 6, 7, 8], "label": "b"},]', ctx)).toEqual(two);
  });
  it.each([
    '{"objects": [{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7, 8], "label": "b"}]}',
    '{"detections": [{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7, 8], "label": "b"}]}',
    '{"result": {"boxes": [{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7, 8], "label": "b"}]}}',
  ])('single-key wrappers: %s', (raw) => {
    expect(xyxy(raw, ctx)).toEqual(two);
  });
  it('a bare object instead of a list, and bare objects one per line', () => {
    expect(xyxy('```json\n{"bbox_2d": [1, 2, 3, 4], "label": "a"}\n```', ctx)).toEqual([[1, 2, 3, 4]]);
    expect(xyxy('{"bbox_2d": [1, 2, 3, 4], "label": "a"}\n{"bbox_2d": [5, 6, 7, 8], "label": "b"}', ctx)).toEqual(two);
  });
  it('a broken object in the middle loses only itself', () => {
    const raw = '[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [9, 9, 9, 9], "label": oops}, {"bbox_2d": [5, 6, 7, 8], "label": "b"}]';
    expect(xyxy(raw, ctx)).toEqual(two);
  });
  it('endless repetition of the same box collapses to one', () => {
    const one = '{"bbox_2d": [1, 2, 3, 4], "label": "a"}';
    expect(xyxy(`[${Array(50).fill(one).join(', ')}, {"bbox_2d": [1, 2`, ctx)).toEqual([[1, 2, 3, 4]]);
  });
});

describe('truncation: every complete object before the cut is kept', () => {
  const objects = [
    '{"bbox_2d": [10, 20, 30, 40], "label": "person", "helmet": true}',
    '{"bbox_2d": [11, 21, 31, 41], "label": "per}son", "helmet": false}',
    '{"bbox_2d": [12, 22, 32, 42], "label": "dog", "helmet": null}',
  ];
  const forms = {
    list: `[\n  ${objects.join(',\n  ')}\n]`,
    fenced: `Here you go:\n\`\`\`json\n[\n  ${objects.join(',\n  ')}\n]\n\`\`\``,
    wrapped: `{"objects": [${objects.join(', ')}], "count": 3}`,
    python: `[${objects.join(', ').replace(/"/g, "'").replace(/true/g, 'True').replace(/false/g, 'False').replace(/null/g, 'None')}]`,
  };
  const ctx = qwen(100, 100, 100, 100);

  it.each(Object.entries(forms))('%s form, cut at every character', (_name, text) => {
    // End of each object: its closing brace (the label "per}son" holds a brace that must not count).
    const tails = text.includes('True') ? ['True}', 'False}', 'None}'] : ['true}', 'false}', 'null}'];
    const ends = tails.map((t) => text.indexOf(t) + t.length - 1);
    expect(ends.every((e) => e > 0)).toBe(true);
    for (let cut = 0; cut <= text.length; cut++) {
      const kept = parseAnswer(text.slice(0, cut), ctx).boxes.map((b) => b.x1);
      const expected = ends.filter((e) => e < cut).map((_, i) => 10 + i);
      expect(kept, `cut at ${cut}: ${JSON.stringify(text.slice(Math.max(0, cut - 20), cut))}`).toEqual(expected);
    }
  });

  it('keeps more than a last-"}" repair would (cut inside a nested value)', () => {
    // supervision-style repair cuts after the last "}" and closes the list; here that "}" sits inside
    // the third label, so it yields broken JSON and loses all three. Vigil keeps the two complete ones.
    const text = `[${objects[0]}, ${objects[1]}, {"bbox_2d": [12, 22, 32, 42], "label": "a}b`;
    expect(parseAnswer(text, ctx).boxes.map((b) => b.label)).toEqual(['person', 'per}son']);
  });
});

describe('points', () => {
  const ctx = qwen(640, 640, 1280, 720);
  it('point_2d objects map like boxes', () => {
    const r = parseAnswer('```json\n[{"point_2d": [10, 20], "label": "cake"}, {"point_2d": [640, 640], "label": "corner"}]\n```', ctx);
    expect(r.points).toEqual([
      { label: 'cake', x: 20, y: 22.5 },
      { label: 'corner', x: 1280, y: 720 },
    ]);
  });
  it('Gemini "point" is [y, x] in 0..1000; point_2d stays [x, y] whatever the family', () => {
    const g: ParseContext = { family: 'gemini', sent: { width: 1000, height: 1000 }, source: { width: 640, height: 480 } };
    expect(parseAnswer('[{"point": [500, 250], "label": "cup"}, {"point_2d": [500, 250], "label": "pen"}]', g).points).toEqual([
      { label: 'cup', x: 160, y: 240 },
      { label: 'pen', x: 320, y: 120 },
    ]);
  });
  it('named keypoints carry their object index', () => {
    const r = parseAnswer('[{"point_2d": [10, 20], "label": "head", "object": 0}, {"point_2d": [30, 40], "label": "head", "object": 1}]', ctx);
    expect(r.points.map((p) => [p.label, p.attributes?.object])).toEqual([
      ['head', 0],
      ['head', 1],
    ]);
  });
  it('the XML <points> form', () => {
    const raw = 'The cakes: <points x1="10" y1="20" x2="100" y2="200" alt="small cake">small cake</points> and <point x="64" y="64" alt="pin">rolling pin</point>';
    expect(parseAnswer(raw, ctx).points).toEqual([
      { label: 'small cake', x: 20, y: 22.5 },
      { label: 'small cake', x: 200, y: 225 },
      { label: 'rolling pin', x: 128, y: 72 },
    ]);
  });
  it('plain "x1,y1,x2,y2 label" lines', () => {
    expect(parseAnswer('10,20,110,120 cat\n50, 100, 150, 200 black dog\n', ctx).boxes.map((b) => [b.label, b.x1, b.y2])).toEqual([
      ['cat', 20, 135],
      ['black dog', 100, 225],
    ]);
  });
});

describe('attributes and the other kinds', () => {
  const ctx: ParseContext = {
    ...qwen(100, 100, 100, 100),
    attributes: ['helmet:boolean', 'color:enum(red|blue)', 'age:number', 'note:string'].map(parseAttributeSpec),
  };
  it('coerces attribute values to their declared types', () => {
    const raw = '[{"bbox_2d": [1, 2, 3, 4], "label": "worker", "helmet": "yes", "color": "Red", "age": "41", "note": "tall"}]';
    expect(parseAnswer(raw, ctx).boxes[0]!.attributes).toEqual({ helmet: true, color: 'red', age: 41, note: 'tall' });
  });
  it('count: the model figure, else the number of boxes, else a number in prose', () => {
    expect(parseAnswer('{"objects": [{"bbox_2d": [1, 2, 3, 4], "label": "a"}], "count": 7}', ctx, 'count').count).toBe(7);
    expect(parseAnswer('[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6, 7, 8], "label": "a"}]', ctx, 'count').count).toBe(2);
    expect(parseAnswer('There are 3 cats.', ctx, 'count').count).toBe(3);
    expect(parseAnswer('none that I can see', ctx, 'count').count).toBeUndefined();
  });
  it('yesno: JSON answer and reason, Python booleans, or a bare "Yes."', () => {
    expect(parseAnswer('{"answer": "yes", "reason": "a person is at the door"}', ctx, 'yesno')).toMatchObject({ answer: 'yes', reason: 'a person is at the door' });
    expect(parseAnswer("{'answer': False, 'reason': 'empty'}", ctx, 'yesno')).toMatchObject({ answer: 'no', reason: 'empty' });
    expect(parseAnswer('Yes. The gate is open.', ctx, 'yesno').answer).toBe('yes');
    expect(parseAnswer('{"answer": "maybe"}', ctx, 'yesno').answer).toBeUndefined();
  });
  it('describe: the description field, or the whole text when there is no JSON', () => {
    expect(parseAnswer('```json\n{"description": "Two cars."}\n```', ctx, 'describe').description).toBe('Two cars.');
    expect(parseAnswer('A quiet street at night.', ctx, 'describe').description).toBe('A quiet street at night.');
  });
});

describe('readJsonValues', () => {
  it('reads JSON escapes and a fence left open at the token cap', () => {
    expect(readJsonValues('```json\n[{"a": "x\\u0041\\n"}, {"b": 2}, {"c": ')).toEqual([[{ a: 'xA\n' }, { b: 2 }, {}]]);
  });
});

describe('deeply nested model text (a repetition loop)', () => {
  const ctx: ParseContext = { family: 'qwen2.5-vl', sent: { width: 640, height: 640 }, source: { width: 640, height: 640 } };
  const box = '{"bbox_2d": [10, 20, 30, 40], "label": "cat"}';

  for (const depth of [2_400, 100_000]) {
    it(`never throws on ${depth} nested brackets, closed or cut, and keeps what parsed before them`, () => {
      for (const text of ['['.repeat(depth) + ']'.repeat(depth), '['.repeat(depth), '{"a":'.repeat(depth) + '1' + '}'.repeat(depth), `[${box}, ${'['.repeat(depth)}`]) {
        expect(() => parseAnswer(text, ctx, 'count')).not.toThrow();
        expect(() => readJsonValues(text)).not.toThrow();
      }
      expect(parseAnswer(`[${box}, ${'['.repeat(depth)}`, ctx).boxes).toEqual([{ label: 'cat', x1: 10, y1: 20, x2: 30, y2: 40, attributes: {} }]);
      expect(parseAnswer(`[${box}, ${'['.repeat(depth)}${']'.repeat(depth)}]`, ctx).boxes).toHaveLength(1);
    });
  }

  it(`reads ordinary nesting up to ${MAX_DEPTH} levels in full`, () => {
    // The box object and its bbox_2d list are two of the levels.
    const text = (n: number) => '['.repeat(n) + box + ']'.repeat(n);
    expect(parseAnswer(text(MAX_DEPTH - 2), ctx).boxes).toHaveLength(1);
    expect(parseAnswer(text(MAX_DEPTH - 2) + ' trailing prose', ctx).boxes).toHaveLength(1);
    // Past the cap the reader stops, then resumes after the break: the box inside is still found.
    expect(parseAnswer(text(MAX_DEPTH + 10), ctx).boxes).toHaveLength(1);
  });
});
