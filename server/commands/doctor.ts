// `vigil doctor`: runs every check, prints one line each (plus how to fix a problem), exits 1 when a
// required check failed.
import { loadConfig, validateConfig, ConfigError } from '../../config/load.ts';
import { DEFAULT_CLIENT_DIR } from '../app.ts';
import { defaultChecks, type Check, type CheckResult, type DoctorContext } from '../doctor/checks.ts';
import { redactUrls } from '../../config/redact.ts';

export interface DoctorReport {
  results: Array<{ check: Check; result: CheckResult }>;
  ok: boolean;
}

export async function diagnose(ctx: DoctorContext, checks: Check[] = defaultChecks()): Promise<DoctorReport> {
  const results: DoctorReport['results'] = [];
  for (const check of checks) {
    let result: CheckResult;
    try {
      result = await check.run(ctx);
    } catch (err) {
      result = { ok: false, detail: `check crashed: ${(err as Error).message}`, fix: 'report this as a Vigil bug' };
    }
    results.push({ check, result });
  }
  return { results, ok: results.every((r) => r.result.ok || !r.check.required) };
}

export function formatReport(report: DoctorReport): string {
  const lines = report.results.map(({ check, result }) => {
    const mark = result.ok ? 'ok  ' : check.required ? 'FAIL' : 'warn';
    const head = `${mark} ${check.name}: ${redactUrls(result.detail)}`;
    return result.ok || !result.fix ? head : `${head}\n       fix: ${result.fix}`;
  });
  lines.push(report.ok ? 'vigil doctor: all required checks passed' : 'vigil doctor: required checks failed (see "fix:" lines above)');
  return lines.join('\n');
}

export async function run(opts: { config?: string }): Promise<void> {
  const report = await diagnose(contextFor(opts.config));
  console.log(formatReport(report));
  if (!report.ok) process.exitCode = 1;
}

function contextFor(file: string | undefined): DoctorContext {
  try {
    return { config: loadConfig(file ? { file } : {}), configError: null, clientDir: DEFAULT_CLIENT_DIR };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { config: validateConfig({}), configError: err.message.replace(/\n\s*/g, '; '), clientDir: DEFAULT_CLIENT_DIR };
  }
}
