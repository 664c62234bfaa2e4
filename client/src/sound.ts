// The optional alert sound: off by default (a dashboard left open must not start beeping on its own, and
// browsers refuse audio before a user gesture anyway). Turning it on is that gesture: the click creates the
// AudioContext and plays one short tone to confirm. The choice is remembered per browser.
const KEY = 'vigil.alertSound';

export class AlertSound {
  private ctx: AudioContext | null = null;
  enabled: boolean;
  /** Times a tone was started (the confirmation included). */
  played = 0;

  constructor() {
    this.enabled = localStorage.getItem(KEY) === 'on';
  }

  /** Called from a click: switches the sound on or off. */
  toggle(): boolean {
    this.enabled = !this.enabled;
    localStorage.setItem(KEY, this.enabled ? 'on' : 'off');
    if (this.enabled) this.play();
    return this.enabled;
  }

  /** Two short tones; silent when off or when the browser still blocks audio (no gesture yet this visit). */
  play(): void {
    if (!this.enabled) return;
    this.played++;
    this.ctx ??= new AudioContext();
    if (this.ctx.state === 'suspended') void this.ctx.resume().catch(() => undefined);
    const t0 = this.ctx.currentTime;
    for (const [i, hz] of [880, 1175].entries()) this.tone(hz, t0 + i * 0.18);
  }

  private tone(hz: number, at: number): void {
    const ctx = this.ctx!;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.16);
  }
}
