import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, validateConfig, parseCameraFlag, ConfigError } from '../../config/load.ts';
import { authEnabled, configJsonSchema } from '../../config/schema.ts';
import { scrub, secretsOf } from '../../config/redact.ts';
import { configReference } from '../../server/commands/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
function yamlFile(text: string): string {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, text);
  return f;
}
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills every default from the schema', () => {
    const cfg = validateConfig({ cameras: [{ id: 'a', source: 'testsrc' }] });
    expect(cfg.server).toEqual({ host: '127.0.0.1', port: 8080, dataDir: 'data', allowedHosts: [], allowedOrigins: [], auth: 'auto', trustedProxies: [] });
    expect(cfg.cameras[0]).toMatchObject({ id: 'a', sampleInterval: 1, decode: 'auto', enabled: true });
    expect(cfg.hls.segmentSeconds).toBe(1);
    expect(Object.isFrozen(cfg.cameras[0])).toBe(true);
  });

  it('auth: auto is on beyond loopback and off on it; "off" on a non-loopback address is refused with the path and why', () => {
    const server = (host: string, auth?: 'auto' | 'on' | 'off') => validateConfig({ server: { host, ...(auth ? { auth } : {}) } }).server;
    expect(authEnabled(server('127.0.0.1'))).toBe(false);
    expect(authEnabled(server('::1'))).toBe(false);
    expect(authEnabled(server('localhost'))).toBe(false);
    expect(authEnabled(server('0.0.0.0'))).toBe(true);
    expect(authEnabled(server('192.168.1.20'))).toBe(true);
    expect(authEnabled(server('127.0.0.1', 'on'))).toBe(true);
    expect(authEnabled(server('127.0.0.1', 'off'))).toBe(false);
    expect(() => server('0.0.0.0', 'off')).toThrow(/server\.auth.*auth is off but Vigil would listen on 0\.0\.0\.0/s);
  });

  it('accepts every source kind', () => {
    for (const source of ['rtsp://cam/stream', 'rtsp://u:p%40ss@10.0.0.5:8554/a/b', 'rtsps://h/x', '/dev/video0', 'clips/lobby.mp4', 'testsrc']) {
      expect(() => validateConfig({ cameras: [{ id: 'c', source }] })).not.toThrow();
    }
  });

  it('rejects unknown keys and bad values with file, path and reason', () => {
    const f = yamlFile('server:\n  prot: 80\ncameras:\n  - id: "bad id"\n    source: ftp://x/y\n    sampleInterval: -1\n    decode: sometimes\n');
    const e = errorOf(() => loadConfig({ file: f }));
    expect(e.message).toContain(f);
    const byPath = Object.fromEntries(e.issues.map((i) => [i.path, i.reason]));
    expect(byPath['server']).toMatch(/unknown key: prot/);
    expect(byPath['cameras[0].id']).toMatch(/letters, digits/);
    expect(byPath['cameras[0].source']).toMatch(/rtsp:\/\//);
    expect(byPath['cameras[0].sampleInterval']).toBeDefined();
    expect(byPath['cameras[0].decode']).toBeDefined();
  });

  it('a stall timeout shorter than a slow camera\'s frame gap is rejected; a sampling interval above it is fine', () => {
    const e = errorOf(() => validateConfig({ ingest: { stallTimeout: 1 }, cameras: [{ id: 'a', source: 'testsrc' }] }));
    expect(e.issues).toEqual([{ path: 'ingest.stallTimeout', reason: expect.stringMatching(/at least 2 s/) }]);
    // The watchdog judges packets and gives sampled frames 2 x sampleInterval: nothing contradicts here any more.
    const cfg = validateConfig({ ingest: { stallTimeout: 8 }, cameras: [{ id: 'a', source: 'testsrc', sampleInterval: 30 }] });
    expect(cfg.cameras[0]!.sampleInterval).toBe(30);
  });

  it('accepts host names and origins for the rebinding guard, and refuses URLs or paths in their place', () => {
    const ok = validateConfig({ server: { allowedHosts: ['vigil.lan', '.example.com', '192.168.1.20', '[fd00::1]'], allowedOrigins: ['https://vigil.example.com', 'http://10.0.0.2:8080'] } });
    expect(ok.server.allowedHosts).toHaveLength(4);
    const e = errorOf(() => validateConfig({ server: { allowedHosts: ['http://vigil.lan'], allowedOrigins: ['https://vigil.example.com/'] } }));
    const byPath = Object.fromEntries(e.issues.map((i) => [i.path, i.reason]));
    expect(byPath['server.allowedHosts[0]']).toMatch(/without scheme or port/);
    expect(byPath['server.allowedOrigins[0]']).toMatch(/no path/);
  });

  it('rejects duplicate camera ids', () => {
    const e = errorOf(() => validateConfig({ cameras: [{ id: 'a', source: 'testsrc' }, { id: 'a', source: 'testsrc' }] }));
    expect(e.issues).toEqual([{ path: 'cameras[1].id', reason: 'duplicate camera id "a"' }]);
  });

  it('reports YAML syntax errors with a line number and unreadable files clearly', () => {
    expect(errorOf(() => loadConfig({ file: yamlFile('server: [\n') })).issues[0]!.path).toMatch(/^line \d+/);
    expect(errorOf(() => loadConfig({ file: join(dir, 'missing.yaml') })).message).toMatch(/cannot read file \(ENOENT\)/);
  });

  it('applies CLI overrides over the file', () => {
    const f = yamlFile('server:\n  port: 9000\ncameras:\n  - id: a\n    source: testsrc\n');
    const cfg = loadConfig({ file: f, overrides: { port: 0, dataDir: '/tmp/x', cameras: [parseCameraFlag('gate=rtsp://u:p@h:1/p')] } });
    expect(cfg.server.port).toBe(0);
    expect(cfg.server.dataDir).toBe('/tmp/x');
    expect(cfg.cameras.map((c) => c.id)).toEqual(['gate']);
  });

  it('rejects a malformed --camera flag without echoing its password', () => {
    const e = errorOf(() => parseCameraFlag('rtsp://user:secret@h/p'));
    expect(e.message).not.toContain('secret');
  });

  it('exports a JSON Schema that matches the committed file', () => {
    const schema = configJsonSchema() as { properties: Record<string, { description?: string }> };
    expect(schema.properties.cameras?.description).toBe('Camera feeds.');
    const committed = JSON.parse(readFileSync('config/vigil.schema.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(schema)));
  });

  it('ships a config reference generated from the schema (run `vigil config docs --out docs/config.md`)', () => {
    const doc = readFileSync('docs/config.md', 'utf8');
    expect(doc).toContain(configReference());
    expect(doc).toMatch(/\| `cameras\[\]\.decode` \| `keyframes` \\\| `all` \\\| `auto` \| `"auto"` \|/);
  });

  it('loads the shipped default config', () => {
    const cfg = loadConfig({ file: 'config/vigil.yaml' });
    expect(cfg.cameras[0]!.source).toBe('testsrc');
  });
});

describe('credential scrubbing', () => {
  it('removes userinfo and raw or decoded secrets from text', () => {
    const src = 'rtsp://admin:p%40ss@10.0.0.5/s';
    const secrets = secretsOf(src);
    expect(secrets).toContain('p@ss');
    const text = `[rtsp @ 0x1] method DESCRIBE failed for ${src}; password p@ss`;
    const out = scrub(text, secrets);
    expect(out).not.toMatch(/p%40ss|p@ss|admin/);
    expect(out).toContain('rtsp://***@10.0.0.5/s');
  });
});
