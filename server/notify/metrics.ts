// Notification delivery figures in Vigil's Prometheus registry: messages sent, retried, failed and dead-lettered
// by channel, and the delivery latency from the pdt of the frame that caused a message to the receiver's
// acknowledgement (2xx, PUBACK).
import { Counter, Histogram, type Registry } from 'prom-client';
import type { DeliveryMetrics } from '../../pipelines/notify/types.ts';

export function deliveryMetrics(registry: Registry): DeliveryMetrics {
  const registers = [registry];
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['channel'], registers });
  const sent = counter('vigil_notify_messages_sent_total', 'Notification messages the receiver acknowledged (2xx, MQTT PUBACK).');
  const retried = counter('vigil_notify_messages_retried_total', 'Delivery attempts of a message that had failed before.');
  const failed = counter('vigil_notify_messages_failed_total', 'Failed delivery attempts (receiver down, non-2xx, timeout, broker away).');
  const dead = counter('vigil_notify_messages_dead_lettered_total', 'Messages moved to the dead letters after notify.maxAttempts failed attempts.');
  const latency = new Histogram({
    name: 'vigil_notify_delivery_latency_seconds',
    help: "Receiver's acknowledgement (wall clock) minus the pdt of the frame that caused the message.",
    labelNames: ['channel'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });
  return {
    sent: (channel, seconds) => {
      sent.inc({ channel });
      latency.observe({ channel }, seconds);
    },
    retried: (channel) => retried.inc({ channel }),
    failed: (channel) => failed.inc({ channel }),
    dead: (channel) => dead.inc({ channel }),
  };
}
