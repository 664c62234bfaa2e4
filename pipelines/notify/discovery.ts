// Home Assistant MQTT discovery: per (rule, camera) a `binary_sensor` (ON while the rule's event is open) and
// an `image` entity showing the event's snapshot (HA's MQTT image reads JPEG bytes from `image_topic`), both on
// a device per camera and tied to Vigil's availability topic. Configs are published retained so Home Assistant
// finds them whenever it (re)starts; an empty retained payload removes an entity.

export interface Topics {
  available: string;
  events: string;
  state(camera: string, rule: string): string;
  snapshot(camera: string, rule: string): string;
}

export function topicsUnder(prefix: string): Topics {
  return {
    available: `${prefix}/available`,
    events: `${prefix}/events`,
    state: (camera, rule) => `${prefix}/${camera}/${rule}/state`,
    snapshot: (camera, rule) => `${prefix}/${camera}/${rule}/snapshot`,
  };
}

export interface DiscoveryPair {
  rule: { id: string; name?: string | undefined; severity: string };
  camera: { id: string; name?: string | undefined };
}

/** Topic -> retained config payload (JSON) for one (rule, camera). */
export function discoveryConfigs(discoveryPrefix: string, nodeTopics: Topics, p: DiscoveryPair, channelId: string): Map<string, Record<string, unknown>> {
  const base = `vigil_${p.camera.id}_${p.rule.id}`;
  const ruleName = p.rule.name ?? p.rule.id;
  const device = {
    identifiers: [`vigil_${p.camera.id}`],
    name: p.camera.name ?? p.camera.id,
    manufacturer: 'Vigil',
    model: 'Camera',
  };
  const common = {
    availability_topic: nodeTopics.available,
    payload_available: 'online',
    payload_not_available: 'offline',
    device,
    origin: { name: 'Vigil', support_url: 'https://github.com/vigil' },
  };
  return new Map<string, Record<string, unknown>>([
    [
      `${discoveryPrefix}/binary_sensor/${base}/config`,
      {
        ...common,
        name: ruleName,
        unique_id: `${base}_${channelId}`,
        state_topic: nodeTopics.state(p.camera.id, p.rule.id),
        payload_on: 'ON',
        payload_off: 'OFF',
        ...(p.rule.severity === 'alert' ? { device_class: 'problem' } : {}),
      },
    ],
    [
      `${discoveryPrefix}/image/${base}/config`,
      {
        ...common,
        name: `${ruleName} snapshot`,
        unique_id: `${base}_snapshot_${channelId}`,
        image_topic: nodeTopics.snapshot(p.camera.id, p.rule.id),
        content_type: 'image/jpeg',
      },
    ],
  ]);
}
