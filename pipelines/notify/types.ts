// Notify stage contract: a channel delivers one outbox message (resolves on the receiver's acknowledgement,
// rejects on anything else), the links it may put in a message, and the figures the delivery worker reports.
import type { OutboxMessage } from '../store/outbox.ts';
import type { Rule } from '../../config/rule.ts';

export type { OutboxMessage };

export interface Channel {
  readonly id: string;
  readonly type: 'webhook' | 'mqtt';
  /** Resolves when ready to deliver (MQTT: first connection attempt made; a broker down is not a start failure). */
  start(): Promise<void>;
  /** Delivers one message; resolves only on the receiver's acknowledgement (2xx, PUBACK). */
  deliver(m: OutboxMessage): Promise<void>;
  /** The rules and cameras now configured (MQTT republishes Home Assistant discovery). */
  setRules?(rules: readonly Rule[], cameras: readonly CameraRef[]): void;
  close(): Promise<void>;
}

export interface CameraRef {
  id: string;
  name?: string | undefined;
}

/** Absolute URLs of an event's pages and pictures (server.publicUrl, or the bound address). */
export interface EventLinks {
  snapshot: string;
  annotated: string;
  thumbnail: string;
  /** The event's recording as an MP4 (cut on the first request; an open event's grows with it). */
  clip: string;
  /** The event with its evidence (JSON API). */
  event: string;
  /** The event's page in the dashboard: evidence, recorded playback, review. */
  page: string;
  /** The camera's live page in the dashboard. */
  live: string;
  /** The recording kept around the event (pdt ms), for a receiver that asks for a VOD range or an export itself. */
  recording: { from: number; to: number | null };
}

/** Reads what channels attach: an event's links and its JPEG files. */
export interface EventMedia {
  links(eventId: string, recording: { from: number; to: number | null }, camera: string): EventLinks;
  /** The JPEG bytes of an event's picture, or null when it is gone (deleted, retention). */
  jpeg(eventId: string, kind: 'snapshot' | 'thumbnail' | 'annotated'): Promise<Buffer | null>;
}

/** Delivery figures by channel (Prometheus in the server). */
export interface DeliveryMetrics {
  sent(channel: string, latencySeconds: number): void;
  retried(channel: string): void;
  failed(channel: string): void;
  dead(channel: string): void;
}
