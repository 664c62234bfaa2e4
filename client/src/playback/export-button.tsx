// Export of an event's clip (or a camera range) as MP4: POST /api/exports, progress from GET /api/exports/:id, a
// download link to /api/exports/:id/file when done. "Burn boxes" asks the server to draw the evaluations in.
import { useEffect, useRef, useState } from 'preact/hooks';

export type ExportTarget = { event: string } | { camera: string; from: number; to: number };

interface ExportState {
  id: string;
  state: string;
  progress: number;
  error?: string | null;
}

const POLL_MS = 500;

async function errorText(res: Response): Promise<string> {
  const body = (await res.json().catch(() => null)) as { message?: string; error?: string } | null;
  return body?.message ?? body?.error ?? `HTTP ${res.status}`;
}

export function ExportButton({ target }: { target: ExportTarget }) {
  const [burn, setBurn] = useState(false);
  const [job, setJob] = useState<ExportState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);

  const poll = async (id: string) => {
    const res = await fetch(`/api/exports/${encodeURIComponent(id)}`, { cache: 'no-store' }).catch(() => null);
    if (!res?.ok) {
      setError(res ? await errorText(res) : 'The server did not answer: try again.');
      return;
    }
    const s = (await res.json()) as ExportState;
    setJob({ ...s, id });
    if (s.state === 'failed') setError(s.error ?? 'The export failed.');
    else if (s.state !== 'done') timer.current = setTimeout(() => void poll(id), POLL_MS);
  };

  const start = async () => {
    setError(null);
    setJob(null);
    const res = await fetch('/api/exports', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...target, burnBoxes: burn }) }).catch(() => null);
    if (!res?.ok) {
      setError(res ? await errorText(res) : 'The server did not answer: try again.');
      return;
    }
    const s = (await res.json()) as ExportState;
    setJob(s);
    if (s.state !== 'done') void poll(s.id);
  };

  const running = job !== null && job.state !== 'done' && job.state !== 'failed' && !error;
  return (
    <div class="export">
      <button type="button" class="export-start" disabled={running} onClick={() => void start()}>
        Export MP4
      </button>
      <label class="export-burn">
        <input type="checkbox" checked={burn} onChange={(e) => setBurn((e.target as HTMLInputElement).checked)} /> burn boxes
      </label>
      {running && <progress class="export-progress" max={1} value={job.progress ?? 0} />}
      {job?.state === 'done' && (
        <a class="export-download" href={`/api/exports/${encodeURIComponent(job.id)}/file`} download>
          Download clip
        </a>
      )}
      {error && <span class="error export-error">{error}</span>}
    </div>
  );
}
