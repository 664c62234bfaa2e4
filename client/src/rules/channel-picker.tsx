// A rule's notify.channels as choices: "every configured channel" (the default: the field absent) or a pick of the
// configured channels (none picked: the rule notifies nobody). The list comes from GET /api/notifications/channels;
// with no channel configured the field stays a comma-separated list, so ids can still be written ahead of the config.
import { useEffect, useState } from 'preact/hooks';
import { ListInput } from './fields.tsx';

interface Channel {
  id: string;
  type: string;
}

export function ChannelPicker({ value, onChange }: { value: unknown; onChange: (v: string[] | undefined) => void }) {
  const [channels, setChannels] = useState<Channel[] | null>(null);
  useEffect(() => {
    fetch('/api/notifications/channels')
      .then((r) => (r.ok ? (r.json() as Promise<{ channels: Channel[] }>) : { channels: [] }))
      .then((b) => setChannels(b.channels))
      .catch(() => setChannels([]));
  }, []);
  if (channels === null) return <span class="muted">Loading channels…</span>;
  if (!channels.length) return <ListInput value={value} onChange={onChange} placeholder="none configured (notify.channels in the config file)" />;
  const picked = Array.isArray(value) ? (value as string[]) : null;
  const toggle = (id: string, on: boolean) => onChange(on ? [...picked!, id] : picked!.filter((x) => x !== id));
  // Ids the rule names that the config no longer has: shown, so the server's refusal has something to point at.
  const unknown = picked?.filter((id) => !channels.some((c) => c.id === id)) ?? [];
  return (
    <div class="channel-picker">
      <label class="check">
        <input type="checkbox" name="notify-every" checked={picked === null} onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? undefined : [])} /> Every configured channel
      </label>
      {picked !== null &&
        [...channels, ...unknown.map((id) => ({ id, type: 'not configured' }))].map((c) => (
          <label class="check" key={c.id}>
            <input type="checkbox" name={`notify-${c.id}`} checked={picked.includes(c.id)} onChange={(e) => toggle(c.id, (e.currentTarget as HTMLInputElement).checked)} /> {c.id}{' '}
            <span class="muted">({c.type})</span>
          </label>
        ))}
    </div>
  );
}
