// Reads callgrind's output file: inclusive instruction counts (Ir) and call counts per function, in total and
// per caller. Used by benchmarks that compare where two programs spend their instructions.
import { readFileSync } from 'node:fs';

export interface CallCost {
  calls: number;
  /** Inclusive instructions of those calls. */
  ir: number;
}

export interface CallgrindProfile {
  /** Every instruction the program ran while collecting. */
  totalIr: number;
  /** callee name -> caller name -> cost of the calls from that caller. */
  calls: Map<string, Map<string, CallCost>>;
}

/** Parses a callgrind.out file (default options: compressed names and positions, Ir as the first event). */
export function readCallgrind(file: string): CallgrindProfile {
  const names = new Map<string, string>();
  const name = (spec: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec.trim());
    if (!m) return spec.trim();
    if (m[2] !== undefined) names.set(m[1]!, m[2]);
    return names.get(m[1]!) ?? spec;
  };
  const calls = new Map<string, Map<string, CallCost>>();
  let totalIr = 0;
  let fn = '';
  let callee = '';
  let pendingCalls = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) fn = name(line.slice(3));
    else if (line.startsWith('cfn=')) callee = name(line.slice(4));
    else if (line.startsWith('calls=')) pendingCalls = Number(line.slice(6).split(' ')[0]);
    else if (line.startsWith('summary:') || line.startsWith('totals:')) totalIr = Math.max(totalIr, Number(line.split(/\s+/)[1]));
    else if (pendingCalls > 0 && /^[+\-*\d]/.test(line)) {
      const ir = Number(line.split(/\s+/)[1] ?? 0);
      const byCaller = calls.get(callee) ?? new Map<string, CallCost>();
      const c = byCaller.get(fn) ?? { calls: 0, ir: 0 };
      c.calls += pendingCalls;
      c.ir += ir;
      byCaller.set(fn, c);
      calls.set(callee, byCaller);
      pendingCalls = 0;
    }
  }
  return { totalIr, calls };
}

/** Cost of the calls to functions whose name matches `callee`, optionally only from callers matching `caller`. */
export function costOf(p: CallgrindProfile, callee: RegExp, caller?: RegExp): CallCost {
  const sum = { calls: 0, ir: 0 };
  for (const [name, byCaller] of p.calls) {
    if (!callee.test(name)) continue;
    for (const [from, c] of byCaller) {
      if (caller && !caller.test(from)) continue;
      // A recursive function's calls to itself are already inside the outer call's inclusive cost.
      if (callee.test(from)) continue;
      sum.calls += c.calls;
      sum.ir += c.ir;
    }
  }
  return sum;
}
