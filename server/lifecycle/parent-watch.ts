// `npx vigil serve` runs Vigil under npm (npm exec -> sh -> node). A process manager, or a shell's `kill %1`,
// sends SIGTERM to npm, which exits without forwarding it: Vigil and its ffmpeg children would run on, orphaned.
// When npm launched Vigil, Vigil watches its launcher and stops cleanly once it is gone (reparented, or the npm
// process exited). Only then: a Vigil started directly (systemd, docker, `nohup ... &`) keeps running when the
// shell that started it exits, as daemons are expected to.
import { commandLineOf, isRunning, parentOf, startTimeOf } from './proc.ts';

export const WATCH_INTERVAL_MS = 500;

interface Launcher {
  pid: number;
  startTime: string | null;
}

/** Whether npm (npm exec / npx / npm run) started this process: npm sets npm_execpath for what it runs. */
export function launchedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.npm_execpath || env.npm_command);
}

/**
 * Calls `onGone` once when the launcher of this process is gone. Returns a function that stops watching.
 * The timer is unref'd: it never keeps the process alive by itself.
 */
export function watchLauncher(onGone: (why: string) => void, intervalMs = WATCH_INTERVAL_MS): () => void {
  const parent = process.ppid;
  const npm = findNpmAncestor();
  const timer = setInterval(() => {
    const why = process.ppid !== parent ? `the process that launched Vigil (pid ${parent}) exited` : npm && !sameProcess(npm) ? `npm (pid ${npm.pid}) exited` : null;
    if (!why) return;
    clearInterval(timer);
    onGone(why);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The nearest ancestor that is npm itself (its title is "npm exec ..." or its script npm-cli.js / npx-cli.js). */
function findNpmAncestor(): Launcher | null {
  let pid: number | null = process.ppid;
  for (let depth = 0; pid && pid > 1 && depth < 6; depth++) {
    const argv = commandLineOf(pid) ?? [];
    if (/^(npm|npx)( |$)/.test(argv[0] ?? '') || argv.some((a) => /(^|\/)(npm|npx)(-cli\.js)?$/.test(a))) return { pid, startTime: startTimeOf(pid) };
    pid = parentOf(pid);
  }
  return null;
}

function sameProcess(l: Launcher): boolean {
  return isRunning(l.pid) && (l.startTime === null || startTimeOf(l.pid) === l.startTime);
}
