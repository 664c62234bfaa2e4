// A forgiving JSON reader for model answers. Remote engines (and unconstrained local runs) answer with
// ```json fences and prose around them, Python literals and quotes, trailing commas, and answers cut at
// the token cap. Rather than patch the text and retry JSON.parse (supervision's repair keeps only what
// precedes the last `}`), this parses once and, when the text stops or breaks, keeps every container
// read so far, marking those that never closed. Callers keep only the objects that did close.
// Nesting is capped at MAX_DEPTH: model text can hold thousands of brackets (a repetition loop), and no
// answer shape is deeper than a few levels; reading stops at the cap and keeps what parsed.

/** Deepest nesting read; real answers use about four levels. */
export const MAX_DEPTH = 64;

/** Objects and arrays whose closing bracket never came (the text was cut or broke inside them). */
const incomplete = new WeakSet<object>();

export function isComplete(v: unknown): boolean {
  return !(typeof v === 'object' && v !== null && incomplete.has(v));
}

/** Every top-level JSON value in the text: inside ```fences when there are any, else anywhere. */
export function readJsonValues(text: string): unknown[] {
  // Constrained answers are plain JSON: take the fast path first.
  try {
    const v: unknown = JSON.parse(text);
    // Too deep for the callers' walks: read it again with the capped reader below.
    if (typeof v === 'object' && v !== null && !deeperThan(v, MAX_DEPTH)) return [v];
  } catch {
    /* not plain JSON */
  }
  const fenced = fencedBodies(text);
  if (fenced.length > 0) {
    const values = fenced.flatMap(scanValues);
    if (values.length > 0) return values;
  }
  return scanValues(text);
}

/** Bodies of ``` fences; an unclosed last fence runs to the end (an answer cut at the token cap). */
export function fencedBodies(text: string): string[] {
  const out: string[] = [];
  const re = /```[A-Za-z0-9_-]*[^\S\n]*\n?([\s\S]*?)(?:```|$)/g;
  for (const m of text.matchAll(re)) if (m[1]!.trim()) out.push(m[1]!);
  return out;
}

/** Whether `v` nests deeper than `max` containers (iterative: never recurses on model text). */
function deeperThan(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d > max) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x)) if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
  }
  return false;
}

function scanValues(text: string): unknown[] {
  const values: unknown[] = [];
  let from = 0;
  for (;;) {
    const start = nextOpening(text, from);
    if (start < 0) return values;
    const p = new Reader(text, start);
    try {
      values.push(p.value());
      from = p.pos;
    } catch (err) {
      if (!(err instanceof Halt)) throw err;
      if (err.partial !== undefined) values.push(err.partial);
      if (p.atEnd()) return values;
      // Resume after the break so that later objects are still found, but never re-read kept ones.
      from = err.partial !== undefined && hasContent(err.partial) ? Math.max(err.at, start + 1) : start + 1;
    }
  }
}

function nextOpening(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (text[i] === '{' || text[i] === '[') return i;
  return -1;
}

const hasContent = (v: unknown) => (Array.isArray(v) ? v.length > 0 : typeof v === 'object' && v !== null && Object.keys(v).length > 0);

/** Thrown when the text ends or breaks; carries the container read so far (marked incomplete). */
class Halt {
  constructor(
    readonly at: number,
    readonly partial?: unknown,
  ) {}
}

const LITERALS: Record<string, unknown> = { true: true, false: false, null: null, True: true, False: false, None: null };
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '/': '/', '\\': '\\', '"': '"', "'": "'" };
const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_$][\w$-]*/y;

class Reader {
  private depth = 0;

  constructor(
    readonly text: string,
    public pos: number,
  ) {}

  atEnd(): boolean {
    this.space();
    return this.pos >= this.text.length;
  }

  value(): unknown {
    this.space();
    const c = this.text[this.pos];
    if (c === undefined) throw new Halt(this.pos);
    if ((c === '{' || c === '[') && this.depth >= MAX_DEPTH) throw new Halt(this.pos);
    if (c === '{') return this.nested(() => this.object());
    if (c === '[') return this.nested(() => this.array());
    if (c === '"' || c === "'") return this.string();
    return this.scalar();
  }

  private nested<T>(read: () => T): T {
    this.depth++;
    try {
      return read();
    } finally {
      this.depth--;
    }
  }

  private object(): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    this.pos++;
    for (;;) {
      this.space();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return obj;
      }
      let key: string | undefined;
      try {
        key = this.key();
        this.space();
        if (this.text[this.pos] !== ':') throw new Halt(this.pos);
        this.pos++;
        obj[key] = this.value();
        this.space();
        const c = this.text[this.pos];
        if (c === ',') this.pos++;
        else if (c !== '}') throw new Halt(this.pos);
      } catch (err) {
        throw this.cut(err, obj, key);
      }
    }
  }

  private array(): unknown[] {
    const arr: unknown[] = [];
    this.pos++;
    for (;;) {
      this.space();
      if (this.text[this.pos] === ']') {
        this.pos++;
        return arr;
      }
      try {
        arr.push(this.value());
        this.space();
        const c = this.text[this.pos];
        if (c === ',') this.pos++;
        else if (c !== ']') throw new Halt(this.pos);
      } catch (err) {
        throw this.cut(err, arr);
      }
    }
  }

  /** A child broke: keep what it read (itself incomplete) inside this container, then pass the break up. */
  private cut(err: unknown, container: Record<string, unknown> | unknown[], key?: string): Halt {
    if (!(err instanceof Halt)) return err as Halt;
    if (err.partial !== undefined) {
      if (Array.isArray(container)) container.push(err.partial);
      else if (key !== undefined && !Object.hasOwn(container, key)) container[key] = err.partial;
    }
    incomplete.add(container);
    return new Halt(err.at, container);
  }

  private key(): string {
    const c = this.text[this.pos];
    if (c === '"' || c === "'") return this.string();
    WORD.lastIndex = this.pos;
    const m = WORD.exec(this.text);
    if (!m) throw new Halt(this.pos);
    this.pos += m[0].length;
    return m[0];
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++]!;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos++];
      if (e === undefined) break;
      if (e === 'u') {
        const hex = this.text.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Halt(this.pos);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        this.pos += 4;
      } else out += ESCAPES[e] ?? e;
    }
    throw new Halt(this.pos);
  }

  private scalar(): unknown {
    NUMBER.lastIndex = this.pos;
    const n = NUMBER.exec(this.text);
    if (n) {
      this.pos += n[0].length;
      return Number(n[0]);
    }
    WORD.lastIndex = this.pos;
    const w = WORD.exec(this.text);
    if (w && Object.hasOwn(LITERALS, w[0])) {
      this.pos += w[0].length;
      return LITERALS[w[0]];
    }
    throw new Halt(this.pos);
  }

  private space(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }
}
