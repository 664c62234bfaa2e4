// The one place for Vigil's configuration: every default, a description per field, and validation.
// YAML files, CLI flags and the exported JSON Schema (config/vigil.schema.json) all derive from this.
import { z } from 'zod';
import { checkSource } from './source.ts';
import { AnalysisSchema, EventsSchema, RuleSchema, checkRuleCameras } from './rule.ts';
import { NotifySchema, checkRuleChannels } from './notify.ts';

const seconds = (d: string) => z.number().positive().describe(d);

// Host names and IPv4 addresses, or a bracketed IPv6 address; a leading dot matches subdomains.
const HOST_NAME = /^(\.?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const ORIGIN = /^https?:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

export const CAMERA_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A camera source: a network URL of an accepted kind (credentials allowed), /dev/videoN, a video file, or `testsrc`. */
export const SourceSchema = z
  .string()
  .min(1)
  .superRefine((s, ctx) => {
    const c = checkSource(s);
    if (!c.ok) ctx.addIssue({ code: 'custom', message: c.reason });
  })
  .describe(
    'Where the video comes from: an RTSP URL (rtsp://user:pass@host:554/path), an HTTP MJPEG camera ' +
      '(http://host/video.mjpg, timestamped by the wall clock on arrival), an HLS stream (http(s)://host/path.m3u8), ' +
      'RTMP (rtmp://host/app/stream) or SRT (srt://host:port); credentials in URLs are never logged or shown. ' +
      'Also a V4L2 webcam (/dev/video0), a video file played in a loop, or "testsrc" for a built-in synthetic camera. ' +
      'ffmpeg pseudo-protocols (concat:, subfile:, pipe:, file:, ...) are refused.',
  );

export const CameraSchema = z.strictObject({
  id: z
    .string()
    .regex(CAMERA_ID, 'use letters, digits, "_" or "-" (at most 64), starting with a letter or digit')
    .describe('Stable identifier used in URLs, events and storage.'),
  name: z.string().min(1).max(120).optional().describe('Display name in the dashboard; defaults to the id.'),
  source: SourceSchema,
  sampleInterval: seconds('Seconds between sampled frames sent for analysis.').default(1),
  decode: z
    .enum(['keyframes', 'all', 'auto'])
    .default('auto')
    .describe(
      'How sampled frames are decoded: "keyframes" decodes only keyframes (about 5x cheaper; needs a GOP no longer than ' +
        'the sampling interval), "all" decodes every frame, "auto" picks keyframes when the GOP allows it.',
    ),
  enabled: z.boolean().default(true).describe('A disabled camera is listed but not connected.'),
  inputArgs: z
    .array(z.string())
    .optional()
    .describe('Advanced: ffmpeg input arguments that replace the ones derived from the source (ends before the input).'),
});

const BackoffSchema = z.strictObject({
  initialMs: z.number().int().min(0).default(500).describe('Delay before the first restart after an exit.'),
  maxMs: z.number().int().min(0).default(5000).describe('Upper bound of the restart delay.'),
  factor: z.number().min(1).default(2).describe('Multiplier applied to the delay after each consecutive failure.'),
  resetAfterMs: z.number().int().min(0).default(30000).describe('A run that stayed live this long resets the delay.'),
});

/** Failures that fast retries make worse: a wrong password locks many NVR accounts after 5-7 attempts. */
const AuthBackoffSchema = z.strictObject({
  freeRetries: z.number().int().min(0).default(2).describe('Authentication failures (401) in a row retried at the normal pace before backing off.'),
  initialMs: z.number().int().min(0).default(300_000).describe('Delay after the first authentication failure past freeRetries (5 min).'),
  maxMs: z.number().int().min(0).default(3_600_000).describe('Upper bound of the delay between attempts with a failing password.'),
  factor: z.number().min(1).default(2).describe('Multiplier applied to the delay after each further authentication failure.'),
});

export const IngestSchema = z.strictObject({
  ffmpegPath: z.string().default('ffmpeg').describe('ffmpeg executable (name on PATH or absolute path).'),
  ffprobePath: z.string().default('ffprobe').describe('ffprobe executable (name on PATH or absolute path).'),
  stallTimeout: z
    .number()
    .min(2, 'at least 2 s: a camera that sends 1-2 frames per second would be restarted between two of its frames')
    .default(8)
    .describe(
      'Watchdog: restart a camera when no data arrived from it for this many seconds. Sampled frames get longer, so any ' +
        'sampleInterval works: this plus the longer of 2 x sampleInterval and the GOP (12 s when the GOP is unknown).',
    ),
  rtspTimeout: seconds('Network socket I/O timeout (RTSP, HTTP, HLS, RTMP, SRT); a silent camera makes ffmpeg exit after about twice this.').default(3),
  rtspTransport: z.enum(['tcp', 'udp']).default('tcp').describe('RTSP transport.'),
  backoff: BackoffSchema.prefault({}).describe('Restart backoff policy (data read by one pure function).'),
  authBackoff: AuthBackoffSchema.prefault({}).describe(
    'Slower retries after repeated authentication failures, so a wrong password does not lock the camera account.',
  ),
  jpegQuality: z.number().int().min(2).max(31).default(4).describe('ffmpeg MJPEG qscale of sampled frames (2 best, 31 worst).'),
});

export const HlsSchema = z.strictObject({
  segmentSeconds: seconds('Target HLS segment duration (live latency grows with it).').default(1),
  liveSegments: z.number().int().min(2).max(30).default(6).describe('Segments kept in the live playlist window.'),
});

export const RecordingSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Keep segments after they leave the live window, for later playback.'),
  maxAgeHours: z.number().positive().default(24).describe('Delete recorded segments older than this.'),
  maxSizeMB: z.number().positive().default(2048).describe('Per-camera size budget; the oldest segments go first.'),
});

export const ServerSchema = z.strictObject({
  host: z.string().default('127.0.0.1').describe('Address to bind. Any address other than loopback turns auth on (see `auth`).'),
  port: z.number().int().min(0).max(65535).default(8080).describe('HTTP port (0 picks a free one).'),
  publicUrl: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'expected an absolute URL such as "https://vigil.example.com"')
    .optional()
    .describe('The URL people reach Vigil at (behind a proxy): links in notifications are absolute under it. Default: the bound address.'),
  dataDir: z.string().default('data').describe('Where HLS segments, recordings, frames and the database live.'),
  allowedHosts: z
    .array(z.string().regex(HOST_NAME, 'expected a host name or IP address without scheme or port, e.g. "vigil.lan"'))
    .default([])
    .describe(
      'Host names the server answers to besides loopback (localhost, 127.0.0.0/8, [::1]) and the bound address ' +
        '(every local address when bound to 0.0.0.0 or ::). Any other Host header is refused: this stops DNS rebinding. ' +
        'Add the names you reach Vigil by, e.g. "vigil.lan"; a leading dot (".example.com") allows every subdomain.',
    ),
  allowedOrigins: z
    .array(z.string().regex(ORIGIN, 'expected an origin such as "https://vigil.example.com" (scheme, host, optional port; no path)'))
    .default([])
    .describe(
      'Browser origins allowed besides the one the request was sent to, for a reverse proxy that rewrites the Host header ' +
        '(e.g. "https://vigil.example.com"). Requests and websockets from any other page are refused.',
    ),
  auth: z
    .enum(['auto', 'on', 'off'])
    .default('auto')
    .describe(
      'Users, roles and tokens. "auto": on whenever `host` is not a loopback address (127.0.0.0/8, ::1, localhost), off on ' +
        'loopback. "on": always (also on loopback). "off": nobody logs in; refused unless `host` is loopback, so camera ' +
        'video never reaches the network unprotected. The first start with auth on creates the user "admin" and prints ' +
        'its generated password once; `vigil users` manages users.',
    ),
  tls: z
    .strictObject({
      cert: z.string().min(1).describe('PEM certificate chain file.'),
      key: z.string().min(1).describe('PEM private key file.'),
    })
    .optional()
    .describe('Serve HTTPS directly with this certificate and key (session cookies are then marked Secure). Behind a TLS proxy, leave it out and set trustedProxies.'),
  trustedProxies: z
    .array(z.string().regex(/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/, 'expected an IP address or CIDR, e.g. "127.0.0.1" or "10.0.0.0/8"'))
    .default([])
    .describe(
      'Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For / X-Forwarded-Proto are believed: the login rate ' +
        'limit, the audit log and Secure cookies then use the client address and scheme they report. Forwarded headers from ' +
        'any other address are ignored.',
    ),
});

export const LocalEngineSchema = z.strictObject({
  model: z.string().optional().describe('Path to the text model GGUF. Default: the pulled Qwen2.5-VL-3B-Instruct.'),
  mmproj: z.string().optional().describe('Path to the matching vision projector (mmproj) GGUF.'),
  modelsDir: z.string().optional().describe('Model cache directory. Default: $VIGIL_MODELS or ~/.cache/vigil/models.'),
  gpu: z.enum(['auto', 'cuda', 'vulkan', 'metal', 'cpu']).default('auto').describe('Compute backend; auto picks the best available.'),
  threads: z.number().int().min(0).default(0).describe('CPU threads (0: all physical cores).'),
  contextSize: z.number().int().min(512).default(4096).describe('Context length per sequence.'),
  maxAnswerTokens: z.number().int().positive().default(512).describe('Token cap for one answer.'),
  timeout: seconds('A request that takes longer fails with a timeout error.').default(120),
});

export const OpenAIEngineSchema = z.strictObject({
  baseUrl: z.string().url().default('http://127.0.0.1:8000/v1').describe('OpenAI-compatible API base URL.'),
  model: z.string().default('qwen2.5-vl').describe('Model name sent with each request.'),
  apiKeyEnv: z.string().default('VIGIL_OPENAI_API_KEY').describe('Environment variable that holds the API key (never put keys in the file).'),
  family: z.enum(['qwen2.5-vl', 'qwen3-vl', 'gemini']).default('qwen2.5-vl').describe('Model family: decides grid factor and coordinate frame.'),
  timeout: seconds('Per-request timeout.').default(60),
  retries: z.number().int().min(0).default(3).describe('Retries on 429/5xx and network errors, with backoff.'),
  concurrency: z.number().int().positive().default(4).describe('Requests in flight at once.'),
  maxAnswerTokens: z.number().int().positive().default(512).describe('Token cap for one answer.'),
});

export const EngineSchema = z.strictObject({
  kind: z.enum(['local', 'openai']).default('local').describe('Which engine answers questions.'),
  minPixels: z.number().int().positive().default(3136).describe('Smallest image (pixels) sent to the model.'),
  maxPixels: z
    .number()
    .int()
    .positive()
    .default(1003520)
    .describe('Largest image (pixels) sent to the model; sampled frames are scaled once, in ffmpeg, onto the engine family\'s grid inside it.'),
  local: LocalEngineSchema.prefault({}),
  openai: OpenAIEngineSchema.prefault({}),
});

export const ConfigSchema = z
  .strictObject({
    server: ServerSchema.prefault({}).describe('HTTP server.'),
    ingest: IngestSchema.prefault({}).describe('Camera ingest (ffmpeg) settings shared by all cameras.'),
    hls: HlsSchema.prefault({}).describe('Live HLS output.'),
    recording: RecordingSchema.prefault({}).describe('Retained recording segments.'),
    engine: EngineSchema.prefault({}).describe('Vision-language model engine.'),
    cameras: z.array(CameraSchema).default([]).describe('Camera feeds.'),
    rules: z
      .array(RuleSchema)
      .default([])
      .describe('Standing rules provisioned from this file: read-only through the API and dashboard (edit the file to change them).'),
    analysis: AnalysisSchema.prefault({}).describe('The analysis loop: change gate, stale frames, engine concurrency.'),
    events: EventsSchema.prefault({}).describe('Stored events, evaluations and their evidence files.'),
    notify: NotifySchema.prefault({}).describe('Notifications: webhook and MQTT channels, delivery retries (README "Notifications").'),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.server.auth === 'off' && !isLoopbackHost(cfg.server.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'auth'],
        message: `auth is off but Vigil would listen on ${cfg.server.host}, beyond this machine: anyone on the network would see every camera. Set server.auth to "auto" or "on" (and log in), or bind 127.0.0.1`,
      });
    }
    const seen = new Set<string>();
    cfg.cameras.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['cameras', i, 'id'], message: `duplicate camera id "${c.id}"` });
      seen.add(c.id);
    });
    const channelIds = new Set<string>();
    cfg.notify.channels.forEach((c, i) => {
      if (channelIds.has(c.id)) ctx.addIssue({ code: 'custom', path: ['notify', 'channels', i, 'id'], message: `duplicate channel id "${c.id}"` });
      channelIds.add(c.id);
    });
    const ruleIds = new Set<string>();
    cfg.rules.forEach((r, i) => {
      if (ruleIds.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      ruleIds.add(r.id);
      for (const issue of checkRuleCameras(r, cfg.cameras)) ctx.addIssue({ code: 'custom', path: ['rules', i, ...issue.path], message: issue.message });
      for (const issue of checkRuleChannels(r, cfg.notify.channels)) ctx.addIssue({ code: 'custom', path: ['rules', i, ...issue.path], message: issue.message });
    });
  });

/** Loopback addresses and names: only this machine can reach a server bound there. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Whether users must log in: `auto` means on beyond loopback. */
export function authEnabled(server: Pick<ServerConfig, 'auth' | 'host'>): boolean {
  return server.auth === 'on' || (server.auth === 'auto' && !isLoopbackHost(server.host));
}

export type VigilConfig = z.output<typeof ConfigSchema>;
export type VigilConfigInput = z.input<typeof ConfigSchema>;
export type CameraConfig = z.output<typeof CameraSchema>;
export type ServerConfig = z.output<typeof ServerSchema>;
export type IngestConfig = z.output<typeof IngestSchema>;
export type HlsConfig = z.output<typeof HlsSchema>;
export type RecordingConfig = z.output<typeof RecordingSchema>;
export type EngineConfig = z.output<typeof EngineSchema>;
export type BackoffPolicy = z.output<typeof BackoffSchema>;
export type { Rule, RuleInput, AnalysisConfig, EventsConfig } from './rule.ts';
export type { NotifyConfig, ChannelConfig, WebhookChannelConfig, MqttChannelConfig } from './notify.ts';
export type AuthBackoffPolicy = z.output<typeof AuthBackoffSchema>;

/** JSON Schema for editors (yaml-language-server). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Vigil configuration',
    ...(z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
  };
}
