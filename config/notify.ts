// Notification channels (`notify:` in the config) and the per-rule `notify:` block. Secrets never sit in the
// file: a channel names the environment variables that hold them (secretEnv, usernameEnv, passwordEnv).
import { z } from 'zod';

export const CHANNEL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = (d: string) => z.string().regex(ENV_NAME, 'expected an environment variable name, e.g. "VIGIL_WEBHOOK_SECRET"').describe(d);

const channelBase = {
  id: z.string().regex(CHANNEL_ID, 'use letters, digits, "_" or "-" (at most 64), starting with a letter or digit').describe('Channel id that rules name in notify.channels.'),
  cooldown: z
    .number()
    .min(0)
    .max(86_400)
    .default(0)
    .describe(
      'Seconds (video time) after the last message this channel got for the same (rule, camera) during which a NEW event is not notified ' +
        '(its updates and close are not sent either). A rule\'s notify.cooldown overrides it. 0: every event is notified.',
    ),
};

export const WebhookChannelSchema = z.strictObject({
  ...channelBase,
  type: z.literal('webhook'),
  url: z.string().url().refine((u) => /^https?:/.test(u), 'expected an http(s) URL').describe('Where messages are POSTed (JSON, Standard Webhooks signed).'),
  secretEnv: envName(
    'Environment variable holding the signing secret in the Standard Webhooks form ("whsec_" + base64 of 24-64 random bytes). Receivers verify webhook-signature with it.',
  ),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name'), z.string()).default({}).describe('Extra headers sent with every request (e.g. a routing key; never a secret you would not put in the file).'),
  thumbnail: z.boolean().default(false).describe('Inline the event thumbnail (JPEG, base64) in the body as data.thumbnail.'),
  timeout: z.number().positive().max(300).default(10).describe('Seconds to wait for the receiver\'s answer; a slower answer counts as a failed attempt.'),
});

export const MqttChannelSchema = z.strictObject({
  ...channelBase,
  type: z.literal('mqtt'),
  url: z
    .string()
    .regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'expected mqtt://host:1883, mqtts://host:8883 or ws(s)://host/path')
    .describe('Broker URL: mqtt://host:1883, mqtts://host:8883 (TLS), ws://host/mqtt or wss://.'),
  usernameEnv: envName('Environment variable holding the broker user name.').optional(),
  passwordEnv: envName('Environment variable holding the broker password.').optional(),
  topicPrefix: z.string().regex(/^[^#+\s]+$/, 'a topic prefix without wildcards or spaces').default('vigil').describe('Prefix of every topic: <prefix>/events, <prefix>/<camera>/<rule>/state, ...'),
  clientId: z.string().min(1).max(64).optional().describe('MQTT client id (default: vigil-<channel id>).'),
  discovery: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Publish Home Assistant MQTT discovery configs (retained).'),
      prefix: z.string().default('homeassistant').describe("Home Assistant's discovery prefix."),
    })
    .prefault({})
    .describe('Home Assistant MQTT discovery: a binary_sensor and an image entity per (rule, camera), one device per camera.'),
  tls: z
    .strictObject({
      caFile: z.string().optional().describe('PEM file of the CA that signed the broker certificate (default: the system CAs).'),
      certFile: z.string().optional().describe('PEM client certificate, for brokers that require one.'),
      keyFile: z.string().optional().describe('PEM private key of the client certificate.'),
      rejectUnauthorized: z.boolean().default(true).describe('Refuse a broker certificate that does not verify. Turn off only for testing.'),
    })
    .optional()
    .describe('TLS options for mqtts:// and wss:// brokers.'),
});

export const ChannelSchema = z.discriminatedUnion('type', [WebhookChannelSchema, MqttChannelSchema]);

export const NotifySchema = z.strictObject({
  channels: z.array(ChannelSchema).default([]).describe('Where notifications go: webhook and mqtt channels.'),
  maxAttempts: z.number().int().min(1).max(1000).default(12).describe('Delivery attempts of one message before it goes to the dead letters (GET /api/notifications/dead; retriable).'),
  backoff: z
    .strictObject({
      initialMs: z.number().int().min(0).default(1000).describe('Delay before the second attempt.'),
      maxMs: z.number().int().min(0).default(300_000).describe('Upper bound of the delay between attempts.'),
      factor: z.number().min(1).default(2).describe('Multiplier applied to the delay after each failed attempt.'),
    })
    .prefault({})
    .describe('Retry delays of a failed delivery (pipelines/backoff.ts).'),
  keepSentHours: z.number().positive().default(168).describe('Delivered messages are kept this long in the outbox (for audits), then deleted.'),
});

/** A rule's notifications. Absent: every configured channel, for alert-severity rules. */
export const RuleNotifySchema = z
  .strictObject({
    channels: z.array(z.string().regex(CHANNEL_ID)).optional().describe('Channel ids (notify.channels) this rule notifies; default every configured channel; [] notifies none.'),
    minSeverity: z
      .enum(['alert', 'detection'])
      .default('alert')
      .describe('Lowest severity that is notified: "alert" (default) notifies only alert rules; "detection" also notifies detection rules.'),
    cooldown: z.number().min(0).max(86_400).optional().describe("Overrides the channels' cooldown for this rule (seconds of video time from the last message for the same camera)."),
  })
  .describe('Which channels this rule notifies (one message per event change: opened, updated, closed).');

export type NotifyConfig = z.output<typeof NotifySchema>;
export type ChannelConfig = z.output<typeof ChannelSchema>;
export type WebhookChannelConfig = z.output<typeof WebhookChannelSchema>;
export type MqttChannelConfig = z.output<typeof MqttChannelSchema>;
export type RuleNotify = z.output<typeof RuleNotifySchema>;

/** Cross-checks a rule's notify.channels against the configured channels: unknown ids. */
export function checkRuleChannels(rule: { notify?: { channels?: string[] | undefined } | undefined }, channels: ReadonlyArray<{ id: string }>): { path: (string | number)[]; message: string }[] {
  const known = new Set(channels.map((c) => c.id));
  const out: { path: (string | number)[]; message: string }[] = [];
  rule.notify?.channels?.forEach((id, i) => {
    if (!known.has(id)) out.push({ path: ['notify', 'channels', i], message: `unknown channel "${id}" (configured: ${[...known].join(', ') || 'none; add it under notify.channels'})` });
  });
  return out;
}
