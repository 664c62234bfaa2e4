// VisionEngine over any OpenAI-compatible chat endpoint (llama.cpp server, vLLM, Ollama, SGLang).
// Images go as JPEG data URIs already on the model grid; answers are constrained with
// response_format {type:"json_schema", json_schema:{name, schema, strict}} — the form both llama.cpp's
// server and vLLM honour (llama.cpp silently ignores the flat {type:"json_schema", schema}).
// One HTTP request per question; servers with prompt caching reuse the image encode between them.
// A question the server refuses (HTTP 400/413/422: its schema, its size) is that question's error; a
// transport fault (unreachable, timeout, 401/403/404/429/5xx after retries) fails the whole ask.
import type { AnswerTimings, AskRequest, EngineAnswer, EngineImage, EngineInfo, EngineQuestion, ModelFamily, VisionEngine } from './types.ts';
import { EngineError } from './types.ts';
import type { EngineConfig } from '../../config/schema.ts';
import { redactUrls } from '../../config/redact.ts';
import { FAMILY_FACTS } from './families.ts';
import { EngineLifecycle } from './lifecycle.ts';
import { silentLogger, type Logger } from '../log.ts';
import { DEFAULT_RETRY, Limiter, isRetriableStatus, retryDelayMs, serverMessage, sleep, type RetryPolicy } from './openai-http.ts';

/** llama.cpp (tools/mtmd) default image token limits for Qwen2.5-VL; vLLM's processor limits are wider. */
export const SERVER_MIN_IMAGE_TOKENS = 8;
export const SERVER_MAX_IMAGE_TOKENS = 4096;

export interface OpenAIEngineOptions {
  baseUrl: string;
  model: string;
  family: ModelFamily;
  /** Name of the environment variable holding the API key (the key itself never enters options or logs). */
  apiKeyEnv?: string;
  timeoutMs: number;
  concurrency: number;
  maxAnswerTokens: number;
  minPixels: number;
  maxPixels: number;
  retry: RetryPolicy;
  contextSize?: number;
  /** Where the API key is looked up (default process.env). */
  env?: Record<string, string | undefined>;
  /** Retries and listener faults; default silent (the composition root injects a child logger). */
  log?: Logger;
}

export function openAIOptionsFromConfig(engine: EngineConfig, overrides: Partial<OpenAIEngineOptions> = {}): OpenAIEngineOptions {
  const o = engine.openai;
  return {
    baseUrl: o.baseUrl,
    model: o.model,
    family: o.family,
    apiKeyEnv: o.apiKeyEnv,
    timeoutMs: o.timeout * 1000,
    concurrency: o.concurrency,
    maxAnswerTokens: o.maxAnswerTokens,
    minPixels: engine.minPixels,
    maxPixels: engine.maxPixels,
    retry: { ...DEFAULT_RETRY, retries: o.retries },
    ...overrides,
  };
}

interface ChatResponse {
  choices?: Array<{ message?: { content?: string | null }; finish_reason?: string }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  /** llama.cpp server extension. */
  timings?: { prompt_n?: number; prompt_ms?: number; predicted_n?: number; predicted_ms?: number };
}

/** Statuses a server gives for one request's content: that question's error, not the ask's. */
const QUESTION_STATUSES = new Set([400, 413, 422]);

export class OpenAIEngine extends EngineLifecycle implements VisionEngine {
  readonly info: EngineInfo;
  private readonly limiter: Limiter;
  private readonly url: string;
  private readonly closing = new AbortController();

  constructor(private readonly opts: OpenAIEngineOptions) {
    super(opts.log ?? silentLogger);
    const fam = FAMILY_FACTS[opts.family];
    const tokenPixels = fam.gridFactor * fam.gridFactor;
    this.info = {
      kind: 'openai',
      family: opts.family,
      coordinateFrame: fam.coordinateFrame,
      gridFactor: fam.gridFactor,
      // Stay inside llama.cpp's default image token limits (8..4096 for Qwen-VL): outside them its server
      // resizes the image again (measured: a 56x56 image became 9 tokens) and pixel answers stop mapping back.
      minPixels: Math.max(opts.minPixels, SERVER_MIN_IMAGE_TOKENS * tokenPixels),
      maxPixels: Math.min(opts.maxPixels, SERVER_MAX_IMAGE_TOKENS * tokenPixels),
      device: 'remote',
      contextSize: opts.contextSize ?? 0,
      model: opts.model,
      // One HTTP request per question; engine.openai.concurrency bounds what is in flight.
      maxQuestionsPerAsk: null,
    };
    this.limiter = new Limiter(opts.concurrency);
    this.url = opts.baseUrl.replace(/\/+$/, '');
  }

  /** Checks the server answers (GET /models); a server without that route (404) still counts as up. */
  async start(): Promise<void> {
    if (this.closing.signal.aborted) throw new EngineError('NOT_STARTED', 'the engine was closed');
    if (this.status === 'ready') return;
    this.setStatus('starting');
    try {
      await this.probe();
    } catch (err) {
      if (this.status !== 'closed') this.setStatus('failed', err);
      throw err;
    }
    if (this.status === 'closed') throw new EngineError('NOT_STARTED', 'the engine was closed while starting');
    this.setStatus('ready');
    this.emit('ready', this.info);
  }

  private async probe(): Promise<void> {
    const where = redactUrls(this.url);
    let res: Response;
    try {
      res = await fetch(`${this.url}/models`, { headers: this.headers(), signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.opts.timeoutMs)]) });
    } catch (err) {
      throw new EngineError('REMOTE_ERROR', `cannot reach ${where}: ${describe(err)}`, 'check engine.openai.baseUrl and that the server is running', { cause: err });
    }
    const body = await res.text().catch(() => '');
    if (res.status === 401 || res.status === 403) {
      throw new EngineError('REMOTE_ERROR', `${where} refused the request (HTTP ${res.status}): ${serverMessage(body)}`, `put the API key in the environment variable ${this.opts.apiKeyEnv ?? 'named by engine.openai.apiKeyEnv'}`);
    }
    if (!res.ok && res.status !== 404) throw remoteError(res.status, body, where);
  }

  async ask(req: AskRequest): Promise<EngineAnswer[]> {
    if (this.status !== 'ready') throw new EngineError('NOT_STARTED', 'ask() before start() or after close()', 'await engine.start() first');
    if (req.frames.length === 0) throw new EngineError('INVALID_REQUEST', 'a request needs at least one frame');
    // Siblings of a failed request stop too: one transport failure fails the whole ask.
    const failed = new AbortController();
    const signal = AbortSignal.any([this.closing.signal, failed.signal, ...(req.signal ? [req.signal] : [])]);
    const images = req.frames.map(dataUri);
    try {
      return await Promise.all(
        req.questions.map((q) =>
          this.answer(q, images, signal, req.signal).catch((err: unknown) => {
            failed.abort(err);
            throw err;
          }),
        ),
      );
    } catch (err) {
      throw failed.signal.reason ?? err;
    }
  }

  async close(): Promise<void> {
    if (this.status === 'closed') return;
    this.closing.abort(new EngineError('ABORTED', 'the engine was closed'));
    this.setStatus('closed');
    this.emit('closed');
  }

  /** The request body for one question (exported shape, see requestBody). */
  body(q: EngineQuestion, images: string[]): Record<string, unknown> {
    return requestBody(this.opts.model, q, images, Math.min(q.maxTokens ?? this.opts.maxAnswerTokens, this.opts.maxAnswerTokens));
  }

  private async answer(q: EngineQuestion, images: string[], signal: AbortSignal, callerSignal?: AbortSignal): Promise<EngineAnswer> {
    const t0 = performance.now();
    let res: ChatResponse;
    try {
      res = await this.post(JSON.stringify(this.body(q, images)), signal, callerSignal);
    } catch (err) {
      if (!(err instanceof RemoteHttpError && QUESTION_STATUSES.has(err.status))) throw err;
      const timings = { encodeMs: 0, prefillMs: 0, decodeMs: 0, totalMs: performance.now() - t0, promptTokens: 0, outputTokens: 0 };
      return { questionId: q.id, raw: '', value: null, error: err, truncated: false, timings };
    }
    const choice = res.choices?.[0];
    const raw = typeof choice?.message?.content === 'string' ? choice.message.content : '';
    const timings: AnswerTimings = {
      encodeMs: 0,
      prefillMs: res.timings?.prompt_ms ?? 0,
      decodeMs: res.timings?.predicted_ms ?? 0,
      totalMs: performance.now() - t0,
      promptTokens: res.usage?.prompt_tokens ?? res.timings?.prompt_n ?? 0,
      outputTokens: res.usage?.completion_tokens ?? res.timings?.predicted_n ?? 0,
    };
    const cut = choice?.finish_reason === 'length';
    try {
      return { questionId: q.id, raw, value: JSON.parse(raw), truncated: cut, timings };
    } catch {
      const error = new EngineError(
        'INVALID_OUTPUT',
        cut ? `the answer was cut at the token cap (${timings.outputTokens} tokens)` : 'the answer is not valid JSON',
        cut ? 'raise engine.openai.maxAnswerTokens or lower the number of items asked for' : 'check that the server honours response_format json_schema',
      );
      return { questionId: q.id, raw, value: null, error, truncated: cut, timings };
    }
  }

  /** POST /chat/completions with the concurrency limit, a per-attempt timeout and retries with backoff. */
  private async post(body: string, signal: AbortSignal, callerSignal?: AbortSignal): Promise<ChatResponse> {
    const where = redactUrls(this.url);
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(this.opts.timeoutMs);
      let retryAfter: string | null = null;
      let failure: EngineError;
      const release = await this.limiter.acquire(signal).catch((err: unknown) => {
        throw aborted(err, callerSignal);
      });
      try {
        const res = await fetch(`${this.url}/chat/completions`, { method: 'POST', headers: this.headers(), body, signal: AbortSignal.any([signal, timeout]) });
        const text = await res.text();
        if (res.ok) return parseChat(text, where);
        failure = remoteError(res.status, text, where);
        if (!isRetriableStatus(res.status)) throw failure;
        retryAfter = res.headers.get('retry-after');
      } catch (err) {
        if (err instanceof EngineError) throw err;
        if (timeout.aborted && !signal.aborted) {
          throw new EngineError('TIMEOUT', `${where} did not answer within ${this.opts.timeoutMs} ms`, 'raise engine.openai.timeout or use a faster server', { cause: err });
        }
        if (signal.aborted) throw aborted(signal.reason, callerSignal);
        failure = new EngineError('REMOTE_ERROR', `cannot reach ${where}: ${describe(err)}`, 'check engine.openai.baseUrl and that the server is running', { cause: err });
      } finally {
        release();
      }
      if (attempt >= this.opts.retry.retries) throw failure;
      const delay = retryDelayMs(attempt, this.opts.retry, retryAfter);
      this.log.warn({ attempt: attempt + 1, delayMs: delay, reason: failure.message }, 'retrying');
      await sleep(delay, signal).catch((err: unknown) => {
        throw aborted(err, callerSignal);
      });
    }
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const key = this.opts.apiKeyEnv ? (this.opts.env ?? process.env)[this.opts.apiKeyEnv] : undefined;
    if (key) h.authorization = `Bearer ${key}`;
    return h;
  }
}

/** Chat request for one question: images first (clip frames in order), then the prompt. */
export function requestBody(model: string, q: EngineQuestion, images: string[], maxTokens: number): Record<string, unknown> {
  return {
    model,
    messages: [
      {
        role: 'user',
        content: [...images.map((url) => ({ type: 'image_url', image_url: { url } })), { type: 'text', text: q.prompt }],
      },
    ],
    response_format: { type: 'json_schema', json_schema: { name: schemaName(q.id), schema: q.schema, strict: true } },
    max_tokens: maxTokens,
    temperature: 0,
    stream: false,
  };
}

/** OpenAI requires ^[a-zA-Z0-9_-]{1,64}$ for the schema name. */
const schemaName = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'answer';

const dataUri = (img: EngineImage) => `data:image/jpeg;base64,${img.jpeg.toString('base64')}`;

function parseChat(text: string, where: string): ChatResponse {
  try {
    return JSON.parse(text) as ChatResponse;
  } catch {
    throw new EngineError('REMOTE_ERROR', `${where} sent a response that is not JSON: ${text.slice(0, 200)}`);
  }
}

/** REMOTE_ERROR carrying the HTTP status; the message includes what the server said. */
export class RemoteHttpError extends EngineError {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
    where: string,
  ) {
    super('REMOTE_ERROR', `${where} answered HTTP ${status}: ${serverMessage}`, hintFor(status));
  }
}

function remoteError(status: number, body: string, where: string): EngineError {
  return new RemoteHttpError(status, serverMessage(body), where);
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return 'check the API key environment variable (engine.openai.apiKeyEnv)';
  if (status === 404) return 'check engine.openai.baseUrl (it usually ends in /v1) and engine.openai.model';
  if (status === 429) return 'the server is rate limiting; lower engine.openai.concurrency';
  if (status >= 500) return 'the server failed; see its log';
  return 'the server rejected the request; see the message';
}

/** The caller's abort is ABORTED; anything else already coded passes through. */
function aborted(reason: unknown, callerSignal?: AbortSignal): EngineError {
  if (reason instanceof EngineError) return reason;
  if (callerSignal?.aborted) return new EngineError('ABORTED', 'the request was aborted', undefined, { cause: reason });
  return new EngineError('ABORTED', 'the engine was closed', undefined, { cause: reason });
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
