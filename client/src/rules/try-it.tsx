// "Try it": the rule being edited (saved or not) run once on a camera's newest frame (POST /api/rules/test),
// nothing stored.
import { useState } from 'preact/hooks';
import type { RuleTestInfo } from '../../../server/wire.ts';
import { ApiError, rulesApi, type Issues } from './api.ts';

export interface TryItProps {
  body: () => unknown;
  cameras: string[];
  onIssues: (issues: Issues) => void;
}

export function TryIt({ body, cameras, onIssues }: TryItProps) {
  const [camera, setCamera] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<RuleTestInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = camera || cameras[0] || '';

  async function run() {
    setBusy(true);
    setError(null);
    try {
      const r = await rulesApi.test(body(), chosen);
      setResult(r);
      onIssues({});
    } catch (err) {
      setResult(null);
      if (err instanceof ApiError && err.body.issues?.length) onIssues(Object.fromEntries(err.body.issues.map((i) => [i.path.replace(/^rule\./, ''), i.message])));
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="try-it">
      <h3>Try it</h3>
      <div class="row">
        <select aria-label="Camera to try on" value={chosen} onChange={(e) => setCamera((e.currentTarget as HTMLSelectElement).value)}>
          {cameras.map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
        <button type="button" class="try-button" disabled={busy || !chosen} onClick={() => void run()}>
          {busy ? 'Asking the model…' : 'Try it on the current frame'}
        </button>
      </div>
      {error && <p class="form-error try-error">{error}</p>}
      {result && <TryResult r={result} />}
    </section>
  );
}

function TryResult({ r }: { r: RuleTestInfo }) {
  return (
    <div class="try-result" data-positive={String(r.positive)}>
      <p>
        <span class={`verdict ${r.positive ? 'positive' : 'negative'}`}>{r.positive ? 'Positive' : 'Negative'}</span> on {r.camera} at {new Date(r.pdt).toLocaleTimeString()} · {r.outcome}
        {r.reason ? ` (${r.reason})` : ''}
        {r.timings ? ` · model ${Math.round(r.timings.totalMs)} ms` : ''}
      </p>
      <img class="try-annotated" src={r.annotated} alt="the frame with the rule's boxes drawn" />
      <details open>
        <summary>Raw answer</summary>
        <pre class="try-raw">{r.raw ?? '(none)'}</pre>
      </details>
      <details>
        <summary>Boxes that count ({r.boxes.length})</summary>
        <pre class="try-boxes">{JSON.stringify(r.boxes, null, 1)}</pre>
      </details>
      {r.count !== null && <p>Count: {r.count}</p>}
      {r.answer !== null && <p>Answer: {r.answer}</p>}
    </div>
  );
}
