// A real MQTT broker for the notification tests: Debian's mosquitto (scripts/install-system-deps.sh) on a free
// port (mosquitto cannot listen on port 0, so a free port is found first), anonymous access, persistence in a
// temporary folder (sessions and retained messages survive `restart()`, as on a real installation).
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
  /** Stops the broker (SIGTERM: it saves its state) without starting it again. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the saved state. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startMosquitto(): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\n`);
  const url = `mqtt://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    const c = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.on('error', () => undefined);
    let log = '';
    c.stderr!.on('data', (d: Buffer) => void (log += String(d)));
    const end = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
      const ok = await new Promise<boolean>((r) => {
        const probe = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1000 });
        probe.once('connect', () => probe.end(true, () => r(true)));
        probe.once('error', () => probe.end(true, () => r(false)));
      });
      if (ok) return;
      if (Date.now() > end) throw new Error(`mosquitto did not accept connections on ${port}: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return { url, port, stop, start, close: stop };
}

/** A subscriber that keeps every message (retained ones flagged) by topic. */
/** `clientId` given: a persistent session (clean: false), so messages published while it is away are kept for it. */
export async function subscriber(url: string, topics: string[], clientId?: string): Promise<{ client: MqttClient; messages: Array<{ topic: string; payload: Buffer; retain: boolean }>; close(): Promise<void> }> {
  const client = mqtt.connect(url, { reconnectPeriod: 500, ...(clientId ? { clientId, clean: false } : {}) });
  const messages: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];
  client.on('message', (topic, payload, packet) => void messages.push({ topic, payload, retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return { client, messages, close: () => client.endAsync(true) };
}
