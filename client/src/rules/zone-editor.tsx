// Zones of one camera drawn on its newest frame (GET /api/cameras/:id/frame.jpg): each click adds a corner
// (0..1 of the picture) to the polygon being drawn, "Close polygon" keeps it. The polygons are also editable as
// JSON, the exact value sent.
import { useEffect, useState } from 'preact/hooks';

type Polygon = [number, number][];

export interface ZoneEditorProps {
  camera: string;
  polygons: Polygon[] | undefined;
  onChange: (p: Polygon[] | undefined) => void;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

export function ZoneEditor({ camera, polygons, onChange }: ZoneEditorProps) {
  const [drawing, setDrawing] = useState<Polygon>([]);
  const [text, setText] = useState<string | null>(null);
  const [stamp, setStamp] = useState(() => Date.now());
  const [missing, setMissing] = useState(false);
  const all = polygons ?? [];
  // A camera without a frame yet (starting, or just added): look again every few seconds.
  useEffect(() => {
    if (!missing) return;
    const t = setTimeout(() => (setMissing(false), setStamp(Date.now())), 3000);
    return () => clearTimeout(t);
  }, [missing]);

  function click(e: MouseEvent) {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    setDrawing([...drawing, [round((e.clientX - r.left) / r.width), round((e.clientY - r.top) / r.height)]]);
  }
  function close() {
    if (drawing.length >= 3) onChange([...all, drawing]);
    setDrawing([]);
  }
  const points = (p: Polygon) => p.map(([x, y]) => `${x},${y}`).join(' ');
  return (
    <div class="zone-editor" data-camera={camera}>
      <strong>{camera}</strong>
      {!missing ? (
        <div class="zone-canvas" onClick={click}>
          <img src={`/api/cameras/${encodeURIComponent(camera)}/frame.jpg?at=${stamp}`} alt={`newest frame of ${camera}`} onError={() => setMissing(true)} />
          <svg viewBox="0 0 1 1" preserveAspectRatio="none">
            {all.map((p) => (
              <polygon class="zone" points={points(p)} />
            ))}
            {drawing.length > 0 && <polyline class="zone drawing" points={points(drawing)} />}
          </svg>
        </div>
      ) : (
        <p class="muted">No frame of {camera} yet (looking again every few seconds); once it shows, click corners on it.</p>
      )}
      <div class="row">
        <button type="button" onClick={() => (setMissing(false), setStamp(Date.now()))}>
          Refresh frame
        </button>
        <button type="button" disabled={drawing.length < 3} onClick={close}>
          Close polygon ({drawing.length} corners)
        </button>
        <button type="button" disabled={!all.length && !drawing.length} onClick={() => (setDrawing([]), onChange(undefined))}>
          Clear zones
        </button>
      </div>
      <textarea
        class="zone-json"
        rows={2}
        value={text ?? (all.length ? JSON.stringify(all) : '')}
        placeholder="[[[0.1,0.5],[0.9,0.5],[0.9,1],[0.1,1]]]"
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        onChange={(e) => {
          const s = (e.currentTarget as HTMLTextAreaElement).value.trim();
          setText(null);
          if (!s) return onChange(undefined);
          try {
            onChange(JSON.parse(s) as Polygon[]);
          } catch {
            onChange(s as unknown as Polygon[]); // the server's 400 says what is wrong, at this field
          }
        }}
      />
    </div>
  );
}
