// CameraManager isolation: one camera's fault (or a throwing listener) never reaches the others.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { validateConfig } from '../../config/load.ts';
import { CameraManager } from '../../server/cameras/manager.ts';
import type { CameraInfo } from '../../server/wire.ts';
import type { Frame } from '../../pipelines/ingest/types.ts';
import { FakeSupervisor } from '../support/server.ts';

const log = pino({ level: 'silent' });
const config = validateConfig({
  cameras: [
    { id: 'bad', source: 'rtsp://admin:hunter22@10.0.0.9/live' },
    { id: 'good', source: 'testsrc' },
    { id: 'flaky', source: 'testsrc' },
  ],
});

describe('CameraManager', () => {
  it('keeps other cameras running when one supervisor fails to construct, and scrubs the reason', async () => {
    const fakes = new Map<string, FakeSupervisor>();
    const m = new CameraManager(config, (o) => {
      if (o.camera.id === 'bad') throw new Error(`cannot open ${o.camera.source} with hunter22`);
      const f = new FakeSupervisor(o);
      fakes.set(o.camera.id, f);
      return f;
    }, log);
    const events: CameraInfo[] = [];
    m.on('camera', (c) => void events.push(c));
    m.start();
    const bad = m.get('bad')!;
    expect(bad.state).toBe('offline');
    expect(bad.reason).toMatch(/failed to start/);
    expect(bad.reason).not.toContain('hunter22');
    expect(bad.reason).not.toContain('admin');
    expect(m.get('good')!.run).toBe(1);
    expect(events.map((e) => e.id)).toEqual(['bad', 'good', 'flaky']);
    await m.close();
    expect(fakes.get('good')!.closed).toBe(true);
  });

  it('isolates throwing and rejecting listeners', () => {
    const fakes = new Map<string, FakeSupervisor>();
    const m = new CameraManager(config, (o) => {
      const f = new FakeSupervisor(o);
      fakes.set(o.camera.id, f);
      return f;
    }, log);
    const got: Frame[] = [];
    m.on('frame', () => {
      throw new Error('listener bug');
    });
    m.on('frame', async () => {
      throw new Error('async listener bug');
    });
    m.on('frame', (f) => void got.push(f));
    m.start();
    expect(() => fakes.get('good')!.emitFrame()).not.toThrow();
    expect(() => fakes.get('flaky')!.emitFrame()).not.toThrow();
    expect(got.map((f) => f.camera)).toEqual(['good', 'flaky']);
  });

  it('reports a camera whose snapshot throws as offline instead of failing the list', () => {
    const m = new CameraManager(config, (o) => {
      const f = new FakeSupervisor(o);
      if (o.camera.id === 'flaky') f.snapshot = () => { throw new Error('boom'); };
      return f;
    }, log);
    m.start();
    const list = m.list();
    expect(list.find((c) => c.id === 'flaky')!.state).toBe('offline');
    expect(list.find((c) => c.id === 'good')!.state).toBe('connecting');
  });

  it('close is idempotent and survives a supervisor whose close rejects', async () => {
    let closes = 0;
    const m = new CameraManager(config, (o) => {
      const f = new FakeSupervisor(o);
      f.close = async () => {
        closes++;
        if (o.camera.id === 'flaky') throw new Error('stuck');
      };
      return f;
    }, log);
    m.start();
    await Promise.all([m.close(), m.close()]);
    await m.close();
    expect(closes).toBe(3);
  });
});
