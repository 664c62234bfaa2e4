// A scripted OpenAI-compatible vision endpoint that answers FROM THE IMAGE ITSELF. A hosted model cannot run here,
// so this stands in for one: it decodes the JPEG Vigil sends (sharp), reads the question, finds the shapes of the
// colours (and shape words) the question names (colour-blobs.ts) and answers in the requested kind's format. Nothing
// is replayed: move the shape in the picture and the answer moves with it.
//
//   const judge = await startVisionJudge({ delayMs: 50 });
//   engine.openai.baseUrl = judge.baseUrl            // http://127.0.0.1:<port>/v1, family qwen2.5-vl
//   (in a config: engine: {kind: openai, openai: {baseUrl: <judge.baseUrl>, model: vision-judge, family: qwen2.5-vl}})
//   judge.requests                                   // every chat request: kind, prompt, image sizes, answer, status
//   judge.down('refuse' | 'drop' | 'hang'); judge.up() // 503 on every route / connections dropped / requests held
//                                                    // unanswered (client timeouts; released with a 503 by up()); back
//   judge.setDelay(ms)                               // model time of each answer
//   judge.inFlight, judge.maxInFlight                // chat requests being answered now / the most at once
//   await judge.close()                              // idempotent
//
// Routes: GET /v1/models, POST /v1/chat/completions (images as data URLs, the last image is judged; text part =
// the prompt; response_format json_schema tells the kind: a list of bbox_2d/box_2d -> detect, of point_2d/point ->
// point, {objects, count} -> count, {answer} -> yesno, {description} -> describe; without a schema the prompt's
// wording decides).
// What it reads in the question: colour words (COLOURS in colour-blobs.ts, plus pink, violet, turquoise) and shape
// words (square/rectangle/block, circle/disc/ball/dot, triangle); a shape matches when it has every colour or shape
// named, or when none is named ("shapes", "objects": every coloured shape). The boilerplate Vigil appends (attribute
// wording, "Answer in JSON format ...") is cut off first, so `"color" (one of "red", "blue")` names no colour.
// Answers (Qwen2.5-VL by default: pixels of the image received; x2/y2 are edges, an 80 px square at 100 is 100..180):
//   detect   [{"bbox_2d": [x1, y1, x2, y2], "label": "red square", ...attributes}]     one entry per blob
//   point    [{"point_2d": [cx, cy], "label": "red square"}]                           blob centres
//   count    {"objects": [<detect entries>], "count": n}
//   yesno    {"answer": "yes" | "no", "reason": "..."}                                 yes when a matching shape is seen
//   describe {"description": "I see a red square at the left, ..."}                    every coloured shape
// `coordinates: 'norm1000'` answers bbox_2d/point_2d in 0..1000 (Qwen3-VL); a schema asking for `box_2d`/`point`
// gets Gemini's [ymin, xmin, ymax, xmax] / [y, x] in 0..1000. Attributes asked for are filled from the blob: a
// colour/color or shape key gets its name, an enum the value naming its colour or shape (else the first), a boolean
// named after a colour or shape whether the blob has it, a number its area in pixels, any other string its colour.
// Each answer carries usage {prompt_tokens, completion_tokens} and llama.cpp's timings block.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { COLOUR_NAMES, findBlobsInImage, type Blob, type BlobOptions } from './colour-blobs.ts';

export type JudgeKind = 'detect' | 'point' | 'count' | 'yesno' | 'describe';
export type Outage = 'refuse' | 'drop' | 'hang';

export interface JudgeRequest {
  at: number;
  kind: JudgeKind | null;
  prompt: string;
  images: Array<{ width: number; height: number }>;
  /** The assistant content sent back; null when the request failed or was refused. */
  answer: string | null;
  status: number | 'dropped' | 'held';
}

export interface VisionJudgeOptions {
  /** Model time added before each answer [0]. */
  delayMs?: number;
  /** Model id reported by /models and in answers ['vision-judge']. */
  model?: string;
  /** Frame of bbox_2d/point_2d coordinates: pixels of the image received (Qwen2.5-VL) or 0..1000 (Qwen3-VL) ['pixels']. */
  coordinates?: 'pixels' | 'norm1000';
  blobs?: BlobOptions;
}

export interface VisionJudge {
  /** OpenAI base URL, ending in /v1. */
  baseUrl: string;
  requests: JudgeRequest[];
  inFlight: number;
  maxInFlight: number;
  /** Make the endpoint fail: 'refuse' answers 503 on every route, 'drop' closes connections without an answer,
   * 'hang' holds requests without an answer until up() (then 503) or close(). */
  down(mode?: Outage): void;
  up(): void;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** Named-colour words, including synonyms, to the colour-table name. */
const COLOUR_WORDS: Record<string, string> = {
  ...Object.fromEntries(COLOUR_NAMES.map((c) => [c, c])),
  pink: 'magenta', violet: 'purple', turquoise: 'cyan',
};
const SHAPE_WORDS: Record<string, Blob['shape']> = {
  square: 'square', rectangle: 'square', block: 'square', cube: 'square',
  circle: 'circle', disc: 'circle', disk: 'circle', ball: 'circle', dot: 'circle',
  triangle: 'triangle',
};

export async function startVisionJudge(opts: VisionJudgeOptions = {}): Promise<VisionJudge> {
  const model = opts.model ?? 'vision-judge';
  let delayMs = opts.delayMs ?? 0;
  let outage: Outage | null = null;
  const held = new Set<() => void>();
  const judge: VisionJudge = {
    baseUrl: '', requests: [], inFlight: 0, maxInFlight: 0,
    down: (mode = 'refuse') => void (outage = mode),
    up: () => {
      outage = null;
      for (const release of held) release();
      held.clear();
    },
    setDelay: (ms) => void (delayMs = ms),
    close: async () => {},
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `vision judge failed: ${(err as Error).message}` } });
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    if (outage === 'drop') {
      if (req.url?.endsWith('/chat/completions')) judge.requests.push(failed(text, 'dropped'));
      return void req.socket.destroy();
    }
    if (outage === 'hang') {
      if (req.url?.endsWith('/chat/completions')) judge.requests.push(failed(text, 'held'));
      await new Promise<void>((resolve) => held.add(resolve));
      if (!res.destroyed) sendJson(res, 503, { error: { message: 'the vision judge was hung (test outage)' } });
      return;
    }
    if (outage === 'refuse') {
      if (req.url?.endsWith('/chat/completions')) judge.requests.push(failed(text, 503));
      return sendJson(res, 503, { error: { message: 'the vision judge is down (test outage)' } });
    }
    if (req.method === 'GET' && req.url?.endsWith('/models')) return sendJson(res, 200, { object: 'list', data: [{ id: model, object: 'model' }] });
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return sendJson(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    judge.inFlight++;
    judge.maxInFlight = Math.max(judge.maxInFlight, judge.inFlight);
    try {
      const t0 = performance.now();
      const { status, record, body } = await answerChat(text, model, opts);
      const wait = delayMs - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      judge.requests.push(record);
      if (!res.destroyed) sendJson(res, status, body);
    } finally {
      judge.inFlight--;
    }
  }
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  judge.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  let closed: Promise<void> | null = null;
  judge.close = () =>
    (closed ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      for (const release of held) release();
      held.clear();
      server.close(() => resolve());
    }));
  return judge;
}

function failed(text: string, status: JudgeRequest['status']): JudgeRequest {
  let prompt = '';
  try {
    prompt = parts(JSON.parse(text)).prompt;
  } catch {
    /* not JSON: recorded with an empty prompt */
  }
  return { at: Date.now(), kind: null, prompt, images: [], answer: null, status };
}

interface ChatBody {
  messages?: Array<{ role?: string; content?: unknown }>;
  response_format?: { json_schema?: { schema?: Schema }; schema?: Schema };
}
type Schema = { type?: string; items?: Schema; properties?: Record<string, Schema>; enum?: unknown[]; maxItems?: number };

/** The prompt (text parts of the last user message) and its images (data URLs, in order). */
function parts(body: ChatBody): { prompt: string; images: string[] } {
  const user = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  const content = user?.content;
  if (typeof content === 'string') return { prompt: content, images: [] };
  const list = Array.isArray(content) ? (content as Array<{ type?: string; text?: string; image_url?: { url?: string } }>) : [];
  return {
    prompt: list.filter((c) => c.type === 'text').map((c) => c.text ?? '').join('\n'),
    images: list.filter((c) => c.type === 'image_url').map((c) => c.image_url?.url ?? ''),
  };
}

async function answerChat(text: string, model: string, opts: VisionJudgeOptions): Promise<{ status: number; record: JudgeRequest; body: unknown }> {
  const at = Date.now();
  const bad = (message: string) => ({ status: 400, record: { at, kind: null, prompt: '', images: [], answer: null, status: 400 }, body: { error: { message } } });
  let body: ChatBody;
  try {
    body = JSON.parse(text) as ChatBody;
  } catch {
    return bad('the request body is not JSON');
  }
  const { prompt, images } = parts(body);
  if (images.length === 0) return bad('the vision judge needs an image_url content part');
  const last = images.at(-1)!;
  const m = /^data:image\/[a-z]+;base64,(.*)$/s.exec(last);
  if (!m) return bad('the vision judge reads only data: image URLs');
  const decoded = await findBlobsInImage(Buffer.from(m[1]!, 'base64'), opts.blobs);
  const schema = body.response_format?.json_schema?.schema ?? body.response_format?.schema;
  const kind = kindOf(schema, prompt);
  const content = JSON.stringify(answer(kind, prompt, decoded, schema, opts.coordinates ?? 'pixels'));
  const size = { width: decoded.width, height: decoded.height };
  const promptTokens = images.length * Math.ceil((size.width * size.height) / 784) + Math.ceil(prompt.length / 4);
  const completionTokens = Math.ceil(content.length / 4);
  const record: JudgeRequest = { at, kind, prompt, images: images.map(() => size), answer: content, status: 200 };
  return {
    status: 200,
    record,
    body: {
      id: `chatcmpl-judge-${at}`,
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      timings: { prompt_n: promptTokens, prompt_ms: 1, predicted_n: completionTokens, predicted_ms: 1 },
    },
  };
}

function kindOf(schema: Schema | undefined, prompt: string): JudgeKind {
  const item = schema?.type === 'array' ? schema.items?.properties : undefined;
  if (item && ('bbox_2d' in item || 'box_2d' in item)) return 'detect';
  if (item && ('point_2d' in item || 'point' in item)) return 'point';
  const props = schema?.properties ?? {};
  if ('count' in props) return 'count';
  if ('answer' in props) return 'yesno';
  if ('description' in props) return 'describe';
  if (/how many/i.test(prompt)) return 'count';
  if (/^\s*(outline|detect|locate)/im.test(prompt)) return 'detect';
  if (/point to/i.test(prompt)) return 'point';
  if (/"yes" or "no"/i.test(prompt)) return 'yesno';
  return 'describe';
}

/** The words of the question itself: clip preamble and Vigil's format boilerplate cut off. */
export function questionWords(prompt: string): { colours: Set<string>; shapes: Set<Blob['shape']> } {
  const q = prompt
    .replace(/^These \d+ images are frames[^.]*\.(\s*Give coordinates in the last frame\.)?/i, '')
    .split(/\s(?:Each entry|Answer in JSON|Output a JSON list)/)[0]!
    .toLowerCase();
  const colours = new Set<string>();
  const shapes = new Set<Blob['shape']>();
  for (const w of q.match(/[a-z]+/g) ?? []) {
    const single = w.endsWith('s') ? w.slice(0, -1) : w;
    if (COLOUR_WORDS[w]) colours.add(COLOUR_WORDS[w]);
    const shape = SHAPE_WORDS[w] ?? SHAPE_WORDS[single];
    if (shape) shapes.add(shape);
  }
  return { colours, shapes };
}

export function matching(blobs: Blob[], prompt: string): Blob[] {
  const { colours, shapes } = questionWords(prompt);
  return blobs.filter((b) => (colours.size === 0 || colours.has(b.colour)) && (shapes.size === 0 || shapes.has(b.shape)));
}

type Picture = { width: number; height: number; blobs: Blob[] };

function answer(kind: JudgeKind, prompt: string, pic: Picture, schema: Schema | undefined, frame: 'pixels' | 'norm1000'): unknown {
  const found = matching(pic.blobs, prompt);
  const cap = (list: Blob[], s: Schema | undefined) => list.slice(0, s?.maxItems ?? 16);
  const name = (b: Blob) => `${b.colour} ${b.shape}`;
  switch (kind) {
    case 'detect':
      return cap(found, schema).map((b) => boxEntry(b, pic, schema?.items, frame));
    case 'point':
      return cap(found, schema).map((b) => pointEntry(b, pic, schema?.items, frame));
    case 'count': {
      const objects = cap(found, schema?.properties?.objects).map((b) => boxEntry(b, pic, schema?.properties?.objects?.items, frame));
      return { objects, count: found.length };
    }
    case 'yesno':
      return found.length > 0
        ? { answer: 'yes', reason: `I see a ${name(found[0]!)} at ${where(found[0]!, pic)}.`.slice(0, 160) }
        : { answer: 'no', reason: pic.blobs.length ? `I see only ${list(pic.blobs.map(name))}.`.slice(0, 160) : 'I see no coloured shape.' };
    case 'describe': {
      const seen = pic.blobs.slice(0, 8).map((b) => `a ${name(b)} at the ${where(b, pic)}`);
      return { description: seen.length ? `A plain background with ${list(seen)}.` : 'A plain background with no coloured shape.' };
    }
  }
}

function boxEntry(b: Blob, pic: Picture, item: Schema | undefined, frame: 'pixels' | 'norm1000'): Record<string, unknown> {
  const attrs = attributes(b, item, ['bbox_2d', 'box_2d', 'label']);
  if (item?.properties && 'box_2d' in item.properties) {
    return { box_2d: [n1000(b.y1, pic.height), n1000(b.x1, pic.width), n1000(b.y2, pic.height), n1000(b.x2, pic.width)], label: `${b.colour} ${b.shape}`, ...attrs };
  }
  const box = frame === 'pixels' ? [b.x1, b.y1, b.x2, b.y2] : [n1000(b.x1, pic.width), n1000(b.y1, pic.height), n1000(b.x2, pic.width), n1000(b.y2, pic.height)];
  return { bbox_2d: box, label: `${b.colour} ${b.shape}`, ...attrs };
}

function pointEntry(b: Blob, pic: Picture, item: Schema | undefined, frame: 'pixels' | 'norm1000'): Record<string, unknown> {
  const cx = (b.x1 + b.x2) / 2;
  const cy = (b.y1 + b.y2) / 2;
  const labelEnum = item?.properties?.label?.enum;
  const label = Array.isArray(labelEnum) ? labelEnum[0] : `${b.colour} ${b.shape}`;
  const object = item?.properties && 'object' in item.properties ? { object: 0 } : {};
  const attrs = attributes(b, item, ['point_2d', 'point', 'label', 'object']);
  if (item?.properties && 'point' in item.properties) return { point: [n1000(cy, pic.height), n1000(cx, pic.width)], label, ...object, ...attrs };
  const pt = frame === 'pixels' ? [Math.round(cx), Math.round(cy)] : [n1000(cx, pic.width), n1000(cy, pic.height)];
  return { point_2d: pt, label, ...object, ...attrs };
}

/** Attribute values read off the blob (see the header). */
function attributes(b: Blob, item: Schema | undefined, reserved: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(item?.properties ?? {})) {
    if (reserved.includes(key)) continue;
    const k = key.toLowerCase();
    if (Array.isArray(s.enum)) out[key] = s.enum.find((v) => v === b.colour || v === b.shape) ?? s.enum[0];
    else if (s.type === 'boolean') out[key] = k === b.colour || k === b.shape;
    else if (s.type === 'number' || s.type === 'integer') out[key] = b.area;
    else out[key] = k === 'shape' ? b.shape : b.colour;
  }
  return out;
}

const n1000 = (v: number, size: number) => Math.min(1000, Math.round((v * 1000) / size));

function where(b: Blob, pic: Picture): string {
  const cx = (b.x1 + b.x2) / 2 / pic.width;
  const cy = (b.y1 + b.y2) / 2 / pic.height;
  const h = cx < 1 / 3 ? 'left' : cx > 2 / 3 ? 'right' : 'centre';
  const v = cy < 1 / 3 ? 'top' : cy > 2 / 3 ? 'bottom' : 'middle';
  return v === 'middle' && h === 'centre' ? 'centre' : `${v} ${h}`.replace('middle ', '');
}

const list = (xs: string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
