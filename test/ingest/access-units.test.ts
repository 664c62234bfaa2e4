// AccessUnitJoiner on FLV bytes built here: what ffmpeg's FLV muxer writes for a camera whose keyframe slices
// arrive as separate packets (SPS/PPS repeated before each slice), fed in awkward chunk sizes.
import { describe, expect, it } from 'vitest';
import { AccessUnitJoiner } from '../../pipelines/ingest/access-units.ts';

const nal = (type: number, size = 6) => {
  const b = Buffer.alloc(4 + size, 0xab);
  b.writeUInt32BE(size);
  b[4] = 0x60 | type; // nal_ref_idc 3
  return b;
};

function tag(type: number, ts: number, body: Buffer): Buffer {
  const h = Buffer.alloc(11);
  h[0] = type;
  h.writeUIntBE(body.length, 1, 3);
  h.writeUIntBE(ts & 0xffffff, 4, 3);
  h[7] = (ts >>> 24) & 0xff;
  const prev = Buffer.alloc(4);
  prev.writeUInt32BE(11 + body.length);
  return Buffer.concat([h, body, prev]);
}

/** AVC video tag: frame type 1 (key) or 2 (inter), packet type 1 (NALUs) or 0 (sequence header). */
const video = (ts: number, key: boolean, nals: Buffer[], packetType = 1, cts = 0) =>
  tag(9, ts, Buffer.concat([Buffer.from([(key ? 0x10 : 0x20) | 7, packetType, 0, 0, cts]), ...nals]));

const HEADER = Buffer.concat([Buffer.from('FLV'), Buffer.from([1, 1, 0, 0, 0, 9]), Buffer.alloc(4)]);

/** Parses the joiner's output back into tags: timestamp, frame type and NAL types. */
function readTags(buf: Buffer): { type: number; ts: number; key: boolean; nals: number[] }[] {
  expect(buf.subarray(0, 13).equals(HEADER)).toBe(true);
  const out = [];
  for (let at = 13; at < buf.length; ) {
    const size = buf.readUIntBE(at + 1, 3);
    const body = buf.subarray(at + 11, at + 11 + size);
    expect(buf.readUInt32BE(at + 11 + size)).toBe(11 + size);
    const type = buf[at]!;
    const nals: number[] = [];
    if (type === 9 && body[1] === 1) for (let p = 5; p + 4 <= body.length; p += 4 + body.readUInt32BE(p)) nals.push(body[p + 4]! & 0x1f);
    out.push({ type, ts: buf.readUIntBE(at + 4, 3), key: type === 9 && body[0]! >> 4 === 1, nals });
    at += 11 + size + 4;
  }
  return out;
}

async function join(input: Buffer, chunk: number): Promise<{ out: Buffer; merged: number }> {
  const j = new AccessUnitJoiner();
  const parts: Buffer[] = [];
  j.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise((r) => j.on('end', r));
  for (let i = 0; i < input.length; i += chunk) j.write(input.subarray(i, i + chunk));
  j.end();
  await done;
  return { out: Buffer.concat(parts), merged: j.merged };
}

describe('AccessUnitJoiner', () => {
  const stream = Buffer.concat([
    HEADER,
    video(0, true, [Buffer.alloc(8, 1)], 0), // sequence header: passed through
    video(40, true, [nal(7), nal(8), nal(5, 40)]), // keyframe, slice 1 (with SPS/PPS)
    video(40, true, [nal(7), nal(8), nal(5, 30)]), // keyframe, slice 2, same time, SPS/PPS repeated
    video(80, false, [nal(1, 20), nal(1, 20)]), // inter frame, both slices in one packet
    video(120, false, [nal(1, 20)]), // inter frame split in two
    video(120, false, [nal(6), nal(1, 20)]), // ... with an SEI between the slices
    tag(18, 120, Buffer.from('meta')), // non-video tags end the pending frame
    video(160, false, [nal(1, 20)]),
  ]);

  for (const chunk of [1, 7, 4096]) {
    it(`merges packets with one timestamp into one access unit, dropping what may not follow a slice (chunks of ${chunk} bytes)`, async () => {
      const { out, merged } = await join(stream, chunk);
      expect(merged).toBe(2);
      expect(readTags(out)).toEqual([
        { type: 9, ts: 0, key: true, nals: [] }, // sequence header, untouched
        { type: 9, ts: 40, key: true, nals: [7, 8, 5, 5] }, // the repeated SPS/PPS are gone
        { type: 9, ts: 80, key: false, nals: [1, 1] },
        { type: 9, ts: 120, key: false, nals: [1, 1] }, // the SEI between slices is gone
        { type: 18, ts: 120, key: false, nals: [] },
        { type: 9, ts: 160, key: false, nals: [1] }, // the last frame is flushed at the end
      ]);
    });
  }

  it('keeps frames with different composition times apart (B-frames share a DTS with nothing)', async () => {
    const { out, merged } = await join(Buffer.concat([HEADER, video(40, false, [nal(1)], 1, 40), video(40, false, [nal(1)], 1, 80)]), 4096);
    expect(merged).toBe(0);
    expect(readTags(out).length).toBe(2);
  });
});
