// MQTT against a real broker (Debian's mosquitto on a free port): Home Assistant discovery configs published,
// retained and valid for their entity types; an event's state ON then OFF and its snapshot, retained; the events
// topic with before/after; discovery removed when a rule goes; and the last will `offline` when a `vigil serve`
// child is killed with SIGKILL.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleSchema } from '../../config/rule.ts';
import type { Notifier } from '../../pipelines/notify/notifier.ts';
import type { Store } from '../../pipelines/store/index.ts';
import { T0, newEvent } from '../support/events.ts';
import { startMosquitto, subscriber, type Broker } from '../support/mosquitto.ts';
import { startVigil } from '../support/vigil-process.ts';
import { notifier, notifyConfig, openStore, until } from './helpers.ts';

// Keys Home Assistant's MQTT platforms accept (developer docs, MQTT binary_sensor and image), and the ones each needs.
const COMMON = ['availability_topic', 'payload_available', 'payload_not_available', 'device', 'origin', 'name', 'unique_id', 'object_id', 'icon', 'entity_category', 'enabled_by_default', 'json_attributes_topic', 'qos'];
const HA = {
  binary_sensor: { allowed: [...COMMON, 'state_topic', 'payload_on', 'payload_off', 'device_class', 'value_template', 'off_delay', 'expire_after', 'force_update'], required: ['state_topic', 'unique_id'] },
  image: { allowed: [...COMMON, 'image_topic', 'url_topic', 'content_type', 'image_encoding', 'url_template'], required: ['unique_id'] },
} as const;
const BINARY_SENSOR_CLASSES = ['problem', 'motion', 'occupancy', 'presence', 'safety', 'smoke', 'sound', 'vibration', 'moving'];

function checkHaConfig(component: 'binary_sensor' | 'image', c: Record<string, unknown>): void {
  const spec = HA[component];
  expect(Object.keys(c).filter((k) => !(spec.allowed as readonly string[]).includes(k))).toEqual([]);
  for (const k of spec.required) expect(typeof c[k]).toBe('string');
  const device = c.device as { identifiers: string[]; name: string };
  expect(device.identifiers.length).toBeGreaterThan(0);
  expect(typeof device.name).toBe('string');
  if (component === 'binary_sensor' && c.device_class !== undefined) expect(BINARY_SENSOR_CLASSES).toContain(c.device_class);
  if (component === 'image') {
    // Exactly one of image_topic / url_topic; image_topic carries raw bytes of content_type.
    expect(('image_topic' in c ? 1 : 0) + ('url_topic' in c ? 1 : 0)).toBe(1);
    expect(c.content_type).toBe('image/jpeg');
  }
}

describe('MQTT channel and Home Assistant discovery', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startMosquitto();
  }, 20_000);
  afterAll(async () => {
    await broker?.close();
  });

  it('publishes discovery, ON then OFF and the snapshot retained, the events with before/after; removes discovery of a removed rule', async () => {
    let store: Store | undefined;
    let n: Notifier | undefined;
    const watch = await subscriber(broker.url, ['vigil/#']);
    try {
      ({ store } = await openStore());
      n = notifier(store, notifyConfig([{ id: 'ha', type: 'mqtt', url: broker.url }]));
      const rule = RuleSchema.parse({ id: 'red', name: 'Red square', kind: 'detect', question: 'red square' });
      n.setRules([rule], [{ id: 'yard', name: 'Yard' }, { id: 'gate' }]);
      await n.start();
      await until(() => watch.messages.some((m) => m.topic === 'vigil/available' && String(m.payload) === 'online'), 'online');

      const ev = await store.events.open(newEvent({ camera: 'yard', startPdt: T0, ruleOver: { id: 'red' } }));
      await store.events.update(ev.id, { peak: 3, endPdt: T0 + 2000 });
      await store.events.close(ev.id, T0 + 4000, 'negatives');
      await until(() => watch.messages.filter((m) => m.topic === 'vigil/events').length === 3, 'three event messages');
      const events = watch.messages.filter((m) => m.topic === 'vigil/events').map((m) => JSON.parse(String(m.payload)) as { type: string; before: { peak: number } | null; after: { id: string; peak: number; state: string } });
      expect(events.map((e) => e.type)).toEqual(['opened', 'updated', 'closed']);
      expect(events[1]!.before!.peak).toBe(1);
      expect(events[1]!.after.peak).toBe(3);
      expect(events[2]!.after.state).toBe('closed');
      await until(() => watch.messages.filter((m) => m.topic === 'vigil/yard/red/state').length === 3, 'three states');
      expect(watch.messages.filter((m) => m.topic === 'vigil/yard/red/state').map((m) => String(m.payload))).toEqual(['ON', 'ON', 'OFF']);

      // A client that connects now gets the retained state, snapshot, availability and discovery.
      const late = await subscriber(broker.url, ['vigil/#', 'homeassistant/#']);
      try {
        await until(() => late.messages.filter((m) => m.topic.startsWith('homeassistant/')).length === 4 && late.messages.some((m) => m.topic === 'vigil/yard/red/snapshot'), 'retained topics');
        const retained = new Map(late.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
        expect(String(retained.get('vigil/yard/red/state'))).toBe('OFF');
        expect(String(retained.get('vigil/available'))).toBe('online');
        expect(retained.get('vigil/yard/red/snapshot')!.equals(readFileSync(store.events.filePath(ev.id, 'snapshot')!))).toBe(true);
        const sensor = JSON.parse(String(retained.get('homeassistant/binary_sensor/vigil_yard_red/config'))) as Record<string, unknown>;
        const image = JSON.parse(String(retained.get('homeassistant/image/vigil_yard_red/config'))) as Record<string, unknown>;
        checkHaConfig('binary_sensor', sensor);
        checkHaConfig('image', image);
        expect(sensor).toMatchObject({ name: 'Red square', state_topic: 'vigil/yard/red/state', payload_on: 'ON', payload_off: 'OFF', availability_topic: 'vigil/available', device: { identifiers: ['vigil_yard'], name: 'Yard' } });
        expect(image).toMatchObject({ image_topic: 'vigil/yard/red/snapshot', availability_topic: 'vigil/available', device: { identifiers: ['vigil_yard'] } });
        const gate = JSON.parse(String(retained.get('homeassistant/binary_sensor/vigil_gate_red/config'))) as Record<string, unknown>;
        checkHaConfig('binary_sensor', gate);
        expect(gate.unique_id).not.toBe(sensor.unique_id);
      } finally {
        await late.close();
      }

      // The rule goes: its entities are removed (empty retained configs).
      const before = watch.messages.length;
      await watch.client.subscribeAsync('homeassistant/#', { qos: 1 });
      n.setRules([], [{ id: 'yard' }, { id: 'gate' }]);
      await until(() => watch.messages.slice(before).filter((m) => m.topic.startsWith('homeassistant/') && m.payload.length === 0).length === 4, 'removal');
      const after = await subscriber(broker.url, ['homeassistant/#']);
      await new Promise((r) => setTimeout(r, 300));
      expect(after.messages).toEqual([]);
      await after.close();
    } finally {
      await n?.close();
      await store?.close();
      await watch.close();
    }
  });

  it('at connect, removes the discovery of rules that went while Vigil was down, and leaves other programs\' configs alone', async () => {
    const discovery = { enabled: true, prefix: 'ha-stale' };
    const channel = { id: 'ha', type: 'mqtt', url: broker.url, topicPrefix: 'stale', discovery };
    const red = RuleSchema.parse({ id: 'red', kind: 'detect', question: 'red square' });
    const blue = RuleSchema.parse({ id: 'blue', kind: 'detect', question: 'blue square' });
    const foreign = 'ha-stale/binary_sensor/zigbee_door/config';
    const watch = await subscriber(broker.url, ['ha-stale/#']);
    const { store } = await openStore();
    try {
      await watch.client.publishAsync(foreign, JSON.stringify({ name: 'Door', unique_id: 'door_ha', state_topic: 'z/door' }), { qos: 1, retain: true });
      // The earlier run: two rules.
      const first = notifier(store, notifyConfig([channel]));
      first.setRules([red, blue], [{ id: 'yard' }]);
      await first.start();
      await until(() => watch.messages.filter((m) => m.topic.endsWith('/config') && m.payload.length > 0).length === 5, 'four configs (and the foreign one)');
      await first.close();
      // Vigil comes back without the blue rule.
      const before = watch.messages.length;
      const next = notifier(store, notifyConfig([channel]));
      next.setRules([red], [{ id: 'yard' }]);
      await next.start();
      try {
        await until(() => watch.messages.slice(before).filter((m) => m.payload.length === 0).length === 2, "the blue rule's two configs removed");
        const retained = await subscriber(broker.url, ['ha-stale/#']);
        await new Promise((r) => setTimeout(r, 300));
        expect(retained.messages.map((m) => m.topic).sort()).toEqual(['ha-stale/binary_sensor/vigil_yard_red/config', 'ha-stale/image/vigil_yard_red/config', foreign].sort());
        await retained.close();
        next.setRules([], [{ id: 'yard' }]); // leave nothing of this test retained
        await until(() => watch.messages.slice(before).filter((m) => m.payload.length === 0).length === 4, 'cleanup');
      } finally {
        await next.close();
      }
    } finally {
      await watch.client.publishAsync(foreign, '', { qos: 1, retain: true });
      await store.close();
      await watch.close();
    }
  });

  it('delivers what happened while the broker was down once it is back, in order, nothing lost', async () => {
    let store: Store | undefined;
    let n: Notifier | undefined;
    const watch = await subscriber(broker.url, ['outage/#'], 'outage-watcher');
    try {
      ({ store } = await openStore());
      n = notifier(store, notifyConfig([{ id: 'ha', type: 'mqtt', url: broker.url, topicPrefix: 'outage', discovery: { enabled: false } }]));
      await n.start();
      await until(() => watch.messages.some((m) => m.topic === 'outage/available' && String(m.payload) === 'online'), 'online');
      await broker.stop();
      const ev = await store.events.open(newEvent({ camera: 'yard', startPdt: T0, ruleOver: { id: 'red' } }));
      await store.events.update(ev.id, { peak: 2, endPdt: T0 + 1000 });
      await store.events.close(ev.id, T0 + 2000, 'negatives');
      const s = store;
      await until(async () => (await s.outbox.ofEvent(ev.id)).some((m) => m.attempts > 0), 'a failed attempt while the broker is down');
      await broker.start();
      await until(() => watch.messages.filter((m) => m.topic === 'outage/yard/red/state').length >= 3, 'the states after the outage', 30_000);
      const events = watch.messages.filter((m) => m.topic === 'outage/events').map((m) => JSON.parse(String(m.payload)) as { id: string; type: string });
      expect([...new Map(events.map((e) => [e.id, e.type])).values()]).toEqual(['opened', 'updated', 'closed']);
      expect(watch.messages.filter((m) => m.topic === 'outage/yard/red/state').map((m) => String(m.payload)).filter((v, i, a) => v !== a[i - 1])).toEqual(['ON', 'OFF']);
      expect((await s.outbox.ofEvent(ev.id)).every((m) => m.state === 'sent')).toBe(true);
    } finally {
      await n?.close();
      await store?.close();
      await watch.close();
    }
  }, 40_000);

  it('says offline through the last will when vigil serve is killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-mqtt-kill-'));
    const watch = await subscriber(broker.url, ['kill/#', 'ha-kill/#']);
    const vigil = await startVigil(dir, {
      cameras: [{ id: 'yard', source: 'testsrc', enabled: false }],
      engine: { kind: 'openai', openai: { baseUrl: 'http://127.0.0.1:9/v1', retries: 0 } },
      rules: [{ id: 'red', kind: 'detect', question: 'red square' }],
      notify: { channels: [{ id: 'ha', type: 'mqtt', url: broker.url, topicPrefix: 'kill', discovery: { prefix: 'ha-kill' } }] },
    });
    try {
      await until(() => watch.messages.some((m) => m.topic === 'kill/available' && String(m.payload) === 'online'), 'online from the child', 30_000);
      await until(() => watch.messages.some((m) => m.topic === 'ha-kill/binary_sensor/vigil_yard_red/config'), 'discovery from the child', 30_000);
      const seen = watch.messages.length;
      await vigil.stop('SIGKILL');
      await until(() => watch.messages.slice(seen).some((m) => m.topic === 'kill/available' && String(m.payload) === 'offline'), 'the last will', 30_000);
      const late = await subscriber(broker.url, ['kill/available']);
      await until(() => late.messages.length === 1, 'retained availability');
      expect(String(late.messages[0]!.payload)).toBe('offline');
      await late.close();
    } finally {
      await vigil.stop('SIGKILL');
      await watch.close();
    }
  }, 60_000);
});
