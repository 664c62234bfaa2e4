// A real MQTT broker for the notification tests: Debian's mosquitto (scripts/install-system-deps.sh) on a free
// port (mosquitto cannot listen on port 0, so a free port is found first), anonymous access, no persistence.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';

export const MOSQUITTO = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Broker {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startMosquitto(): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.on('error', () => undefined);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => void (log += String(d)));
  const url = `mqtt://127.0.0.1:${port}`;
  const end = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
    const ok = await new Promise<boolean>((r) => {
      const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1000 });
      c.once('connect', () => c.end(true, () => r(true)));
      c.once('error', () => c.end(true, () => r(false)));
    });
    if (ok) break;
    if (Date.now() > end) throw new Error(`mosquitto did not accept connections on ${port}: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A subscriber that keeps every message (retained ones flagged) by topic. */
export async function subscriber(url: string, topics: string[]): Promise<{ client: MqttClient; messages: Array<{ topic: string; payload: Buffer; retain: boolean }>; close(): Promise<void> }> {
  const client = mqtt.connect(url, { reconnectPeriod: 500 });
  const messages: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];
  client.on('message', (topic, payload, packet) => void messages.push({ topic, payload, retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return { client, messages, close: () => client.endAsync(true) };
}
