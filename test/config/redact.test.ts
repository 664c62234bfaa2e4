// Defect 9: a password containing "@" (ffmpeg splits userinfo at the LAST "@") leaked as `***@ret99@host`.
import { describe, expect, it } from 'vitest';
import { redactUrls, scrub, secretsOf, userinfoOf } from '../../config/redact.ts';
import { parseCameraFlag } from '../../config/load.ts';

const SRC = 'rtsp://admin:Sec@ret99@10.0.0.5:554/stream';

describe('userinfo split at the last "@"', () => {
  it('redacts all of a password that contains "@" (and ":")', () => {
    expect(redactUrls(`Input #0, rtsp, from '${SRC}':`)).toBe("Input #0, rtsp, from 'rtsp://***@10.0.0.5:554/stream':");
    expect(redactUrls('rtsp://u:a:b@c@h/x rtsp://v:w@h2/y')).toBe('rtsp://***@h/x rtsp://***@h2/y');
    expect(userinfoOf(SRC)).toBe('admin:Sec@ret99');
  });

  it('stops at the authority: an "@" in the path or query is not userinfo', () => {
    expect(redactUrls('http://cam/video.mjpg?res=a@b')).toBe('http://cam/video.mjpg?res=a@b');
    expect(redactUrls('rtsp://cam/live@main')).toBe('rtsp://cam/live@main');
    expect(secretsOf('http://cam/x@y')).toEqual([]);
  });

  it('collects the whole password, raw and percent-decoded, and scrubs every form from free text', () => {
    const secrets = secretsOf(SRC);
    expect(secrets).toEqual(expect.arrayContaining(['admin:Sec@ret99', 'admin', 'Sec@ret99']));
    const text = `401 for ${SRC}; tried password Sec@ret99 as admin`;
    const out = scrub(text, secrets);
    expect(out).not.toMatch(/Sec|ret99|admin/);
    expect(out).toContain('rtsp://***@10.0.0.5:554/stream');
  });

  it('percent-encoded credentials: both forms are secrets', () => {
    const src = 'rtsp://ad%3Amin:p%40ss%2Fw0rd@h/s';
    const secrets = secretsOf(src);
    expect(secrets).toEqual(expect.arrayContaining(['p%40ss%2Fw0rd', 'p@ss/w0rd', 'ad%3Amin', 'ad:min']));
    expect(scrub('decoded p@ss/w0rd, raw p%40ss%2Fw0rd, user ad:min', secrets)).not.toMatch(/p@ss|p%40|w0rd|ad:min|ad%3A/);
  });

  it('invalid percent-encoding is kept raw (no throw)', () => {
    expect(secretsOf('rtsp://u:100%@h/')).toEqual(expect.arrayContaining(['100%']));
  });

  it('--camera flag errors never echo a password containing "@"', () => {
    let msg = '';
    try {
      parseCameraFlag('rtsp://admin:Sec@ret99@h/p');
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/expected ID=SOURCE/);
    expect(msg).not.toMatch(/Sec|ret99|admin/);
  });
});

describe('credentials in the query string (Reolink RTMP, CGI MJPEG, signed HLS)', () => {
  const reolink = 'rtmp://10.0.0.7/bcs/channel0_main.bcs?channel=0&stream=0&user=admin&password=Re%40l1nk';
  it('redacts the values, keeps the rest of the URL readable', () => {
    expect(redactUrls(`Input #0, flv, from '${reolink}':`)).toBe("Input #0, flv, from 'rtmp://10.0.0.7/bcs/channel0_main.bcs?channel=0&stream=0&user=***&password=***':");
    expect(redactUrls('http://cam/cgi-bin/video.cgi?usr=op&PWD=x1&res=hi')).toBe('http://cam/cgi-bin/video.cgi?usr=***&PWD=***&res=hi');
    expect(redactUrls('https://nvr/live/index.m3u8?token=abc.def#t')).toBe('https://nvr/live/index.m3u8?token=***#t');
  });
  it('collects them as secrets, raw and decoded, for free text', () => {
    const secrets = secretsOf(reolink);
    expect(secrets).toEqual(expect.arrayContaining(['admin', 'Re%40l1nk', 'Re@l1nk']));
    expect(scrub('login as admin with Re@l1nk failed', secrets)).toBe('login as *** with *** failed');
  });
});
