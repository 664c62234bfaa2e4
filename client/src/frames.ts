// Recent sampled-frame events per camera, bounded: the overlay looks up the one nearest a PDT.
import type { FrameEvent } from '../../server/wire.ts';

export class FrameBuffer {
  private readonly byCamera = new Map<string, FrameEvent[]>();

  constructor(private readonly capacity = 240) {}

  push(ev: FrameEvent): void {
    let list = this.byCamera.get(ev.camera);
    if (!list) this.byCamera.set(ev.camera, (list = []));
    // A new run restarts PTS and PDT anchors: frames of older runs are stale.
    if (list.length > 0 && list[list.length - 1]!.run !== ev.run) list.length = 0;
    list.push(ev);
    if (list.length > this.capacity) list.splice(0, list.length - this.capacity);
  }

  /** The frame of `run` whose PDT is nearest `pdt`, or null. */
  nearest(camera: string, run: number, pdt: number): FrameEvent | null {
    const list = this.byCamera.get(camera);
    if (!list) return null;
    let best: FrameEvent | null = null;
    for (const f of list) {
      if (f.run !== run) continue;
      if (!best || Math.abs(f.pdt - pdt) < Math.abs(best.pdt - pdt)) best = f;
    }
    return best;
  }

  clear(camera: string): void {
    this.byCamera.delete(camera);
  }
}
