// Defect 4 (validation side): which sources are accepted, the pseudo-protocols that are always refused, and errors
// that blame where the value came from (--camera or the file).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../config/load.ts';
import { checkSource } from '../../config/source.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kind = (s: string) => {
  const c = checkSource(s);
  return c.ok ? c.kind : `refused: ${c.reason}`;
};

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('source kinds', () => {
  it('accepts each network kind by scheme (HLS by its .m3u8 path), devices, files and testsrc', () => {
    expect(kind('rtsp://u:p@10.0.0.5:554/Streaming/101')).toBe('rtsp');
    expect(kind('RTSPS://cam/x')).toBe('rtsp');
    expect(kind('http://192.168.1.50:81/stream')).toBe('mjpeg'); // ESP32-CAM
    expect(kind('https://cam.example/video.mjpg?res=hi')).toBe('mjpeg');
    expect(kind('https://nvr.example/live/cam1/index.m3u8?token=abc')).toBe('hls');
    expect(kind('http://nvr/x/INDEX.M3U8')).toBe('hls');
    expect(kind('rtmp://192.168.1.60/bcs/channel0_main.bcs?channel=0&stream=0&user=admin&password=x')).toBe('rtmp');
    expect(kind('rtmps://live.example/app/key')).toBe('rtmp');
    expect(kind('srt://10.0.0.9:9000?mode=caller&latency=200000')).toBe('srt');
    expect(kind('/dev/video2')).toBe('v4l2');
    expect(kind('clips/lobby.mp4')).toBe('file');
    expect(kind('./concat:weird-name.mp4')).toBe('file');
    expect(kind('/media/a:b.mp4')).toBe('file');
    expect(kind('testsrc')).toBe('testsrc');
  });

  const PSEUDO = [
    'concat:a.ts|b.ts', 'concatf:list.txt', 'subfile,,start,0,end,0,,:/etc/passwd', 'subfile:/etc/passwd', 'pipe:0', 'pipe:',
    'fd:3', 'file:/etc/passwd', 'data:video/mp4;base64,AAAA', 'cache:http://x/y', 'async:http://x/y', 'crypto:http://x/y',
    'hls+http://x/y.m3u8', 'tee:a|b', 'tcp://10.0.0.1:1234', 'udp://239.0.0.1:1234', 'unix:/tmp/sock', 'gopher://x/y',
    'ftp://x/y', 'sftp://x/y', 'rtp://239.0.0.1:5004', 'md5:', 'bluray:/dev/sr0', 'zmq:tcp://x', 'ipfs://cid', 'tls://x:1',
  ];
  it.each(PSEUDO)('refuses the ffmpeg pseudo-protocol %s with a clear message', (source) => {
    const c = checkSource(source);
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.reason).toMatch(/is an ffmpeg protocol for files, pipes or raw sockets, not a camera|sources are not supported/);
    expect(c.reason).toMatch(/use rtsp:\/\/host\/path, http:\/\/host\/video\.mjpg \(MJPEG\)/);
  });

  it('refuses unknown schemes and URLs without a host', () => {
    expect(kind('webrtc://cam/x')).toMatch(/^refused: "webrtc:" sources are not supported/);
    expect(kind('rtsp:///nohost')).toMatch(/without a host/);
    expect(kind('http://user:pw@/x')).toMatch(/without a host/);
    expect(kind('rtmp://host/app stream')).toMatch(/spaces/);
  });

  it('config validation refuses them at the source path', () => {
    const e = errorOf(() => validateConfig({ cameras: [{ id: 'a', source: 'concat:a.ts|b.ts' }] }));
    expect(e.issues).toEqual([{ path: 'cameras[0].source', reason: expect.stringMatching(/^"concat:" is an ffmpeg protocol/) }]);
  });
});

describe('errors say where the value came from', () => {
  const yaml = join(dir, 'vigil.yaml');
  writeFileSync(yaml, 'cameras:\n  - id: fromfile\n    source: testsrc\n');

  it('a bad --camera is blamed on the flag, not on the config file', () => {
    const e = errorOf(() => loadConfig({ file: yaml, overrides: { cameras: [{ id: 'ok', source: 'testsrc' }, { id: 'gate', source: 'pipe:0' }] } }));
    expect(e.file).toBe('--camera');
    expect(e.message).not.toContain(yaml);
    expect(e.message).toMatch(/^--camera: invalid configuration\n {2}- --camera gate: source: "pipe:" is an ffmpeg protocol/);
  });

  it('a bad file value next to good flags still names the file', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  port: -5\n');
    const e = errorOf(() => loadConfig({ file: bad, overrides: { cameras: [{ id: 'ok', source: 'testsrc' }] } }));
    expect(e.message).toContain(`${bad}: server.port`);
  });

  it('a bad camera in the file is blamed on the file', () => {
    const bad = join(dir, 'badcam.yaml');
    writeFileSync(bad, 'cameras:\n  - id: x\n    source: "subfile:/etc/passwd"\n');
    const e = errorOf(() => loadConfig({ file: bad }));
    expect(e.file).toBe(bad);
    expect(e.issues[0]).toMatchObject({ path: 'cameras[0].source', reason: expect.stringMatching(/"subfile:" is an ffmpeg protocol/) });
  });
});
