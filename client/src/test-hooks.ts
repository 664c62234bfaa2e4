// Test hooks: `window.__vigil` (overlay state, players, connection) and PNG captures of the frame on
// screen at each exact overlay match. Compiled in only when the build defines __VIGIL_TEST_HOOKS__
// (`VIGIL_TEST_HOOKS=1 vite build`, as test/support/browser.ts does); a production bundle has neither
// (test/e2e/bundle.test.ts greps it).
import type { OverlayDebug } from './overlay.ts';
import { current } from './playback/current.ts';
import type { PlaybackDebug } from './playback/recorded-player.ts';
import type { AlertSound } from './sound.ts';
import type { View } from './views.ts';

export interface VigilDebug {
  /** Overlay state of the first player in the current view. */
  readonly overlay: OverlayDebug | null;
  /** Display time minus PDT of the frame on screen (ms), first player. */
  readonly latencyMs: number | null;
  readonly players: Array<{ camera: string; overlay: OverlayDebug; latencyMs: number | null; currentTime: number; presentedFrames: number }>;
  readonly connection: string;
  /** The alert sound: on or off, and how many times it played. */
  readonly sound: { enabled: boolean; played: number };
  /** The recorded player on the page (event detail, #/playback), if any. */
  readonly playback: PlaybackDebug | null;
}

declare global {
  interface Window {
    __vigil?: VigilDebug;
  }
}

export function installTestHooks(view: () => View | null, connection: () => string, sound: AlertSound): void {
  window.__vigil = {
    get overlay() {
      return view()?.players()[0]?.overlay.debug ?? null;
    },
    get latencyMs() {
      return view()?.players()[0]?.latencyMs ?? null;
    },
    get players() {
      return (view()?.players() ?? []).map((p) => ({
        camera: p.overlay.debug.camera,
        overlay: p.overlay.debug,
        latencyMs: p.latencyMs,
        currentTime: p.video.currentTime,
        presentedFrames: p.overlay.debug.presentedCount,
      }));
    },
    get connection() {
      return connection();
    },
    get sound() {
      return { enabled: sound.enabled, played: sound.played };
    },
    get playback() {
      return current.playback;
    },
  };
}

/** The presented video frame as a PNG data URL (640 px wide), for reading its burned-in counter. */
export function captureFrame(v: HTMLVideoElement): string | undefined {
  if (!v.videoWidth) return undefined;
  const c = document.createElement('canvas');
  c.width = 640;
  c.height = Math.round((640 * v.videoHeight) / v.videoWidth);
  c.getContext('2d')?.drawImage(v, 0, 0, c.width, c.height);
  return c.toDataURL('image/png');
}
