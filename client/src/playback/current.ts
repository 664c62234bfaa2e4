// The recorded player now on the page, for the test hooks (window.__vigil.playback): a leaf module, so the test
// hooks and the player do not import each other.
import type { PlaybackDebug } from './recorded-player.ts';

export const current: { playback: PlaybackDebug | null } = { playback: null };
