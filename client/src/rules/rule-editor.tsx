// Create (#/rules/new) or edit (#/rules/<id>) a rule: exactly RuleSchema's fields with the schema's docs and
// defaults; each save is a new version (POST, then PUT); the server's 400 issues are shown at their fields.
import { useEffect, useState } from 'preact/hooks';
import type { RuleInfo } from '../../../server/wire.ts';
import { cameras } from '../page.tsx';
import { ApiError, rulesApi, type Issues } from './api.ts';
import { ANCHORS_UI, KINDS, SEVERITIES_UI } from './choices.ts';
import { ChannelPicker } from './channel-picker.tsx';
import { ConditionFields } from './condition-fields.tsx';
import { Field, ListInput, NumberInput, Select, TextInput } from './fields.tsx';
import { fromRule, get, issuesByField, NEW_RULE, set as setPath, toBody, type Draft } from './form-model.ts';
import { ScheduleField } from './schedule-field.tsx';
import { loadRuleSchema } from './schema-docs.ts';
import { TryIt } from './try-it.tsx';
import { VersionHistory } from './versions.tsx';
import { ZoneEditor } from './zone-editor.tsx';

export function RuleEditor({ id }: { id: string | null }) {
  const [draft, setDraft] = useState<Draft>(NEW_RULE);
  const [saved, setSaved] = useState<RuleInfo | null>(null);
  const [versions, setVersions] = useState<RuleInfo[]>([]);
  const [issues, setIssues] = useState<Issues>({});
  const [status, setStatus] = useState<string>('');
  const [loadError, setLoadError] = useState<string | null>(null);

  async function reload(ruleId: string) {
    const [info, vs] = await Promise.all([rulesApi.get(ruleId), rulesApi.versions(ruleId)]);
    setSaved(info);
    setDraft(fromRule(info.rule));
    setVersions(vs);
  }
  useEffect(() => {
    void loadRuleSchema();
    if (id) reload(id).catch((err: Error) => setLoadError(err.message));
  }, [id]);

  const set = (path: string, v: unknown) => setDraft((d) => setPath(d, path, v));
  const errors = issuesByField(issues);
  const readOnly = saved?.source === 'config';
  const f = (p: string) => get(draft, p);
  const camIds = cameras.value.map((c) => c.id);
  const watched = draft.cameras === 'all' || !Array.isArray(draft.cameras) ? camIds : (draft.cameras as string[]);
  const objects = ['detect', 'point', 'count'].includes(draft.kind as string);

  async function save(e: Event) {
    e.preventDefault();
    setStatus('Saving…');
    try {
      const info = saved ? await rulesApi.replace(saved.rule.id, toBody(draft)) : await rulesApi.create(toBody(draft));
      setIssues({});
      setStatus(`Saved version ${info.version}.`);
      if (!saved) history.replaceState(null, '', `#/rules/${encodeURIComponent(info.rule.id)}`);
      await reload(info.rule.id);
    } catch (err) {
      setStatus('');
      setIssues(err instanceof ApiError ? err.issues() : { '': (err as Error).message });
    }
  }

  if (loadError) return <div class="rule-editor"><p class="form-error">{loadError}</p><a href="#/rules">Back to rules</a></div>;
  return (
    <div class="rule-editor page">
      <p><a href="#/rules">← Rules</a></p>
      <h2>{saved ? `Rule ${saved.rule.name ?? saved.rule.id} (v${saved.version})` : 'New rule'}</h2>
      {readOnly && <p class="note readonly-note">This rule is from the config file: edit it there.</p>}
      <form class="rule-form" onSubmit={(e) => void save(e)}>
        <fieldset disabled={readOnly}>
          <Field path="id" label="Id" error={errors['id']}>
            {saved ? <input type="text" value={saved.rule.id} readOnly /> : <TextInput value={f('id')} onChange={(v) => set('id', v)} placeholder="no-helmet" />}
          </Field>
          <Field path="name" label="Name" error={errors['name']}>
            <TextInput value={f('name')} onChange={(v) => set('name', v || undefined)} />
          </Field>
          <Field path="question" label="Question" error={errors['question']}>
            <textarea rows={2} value={(f('question') as string) ?? ''} onInput={(e) => set('question', (e.currentTarget as HTMLTextAreaElement).value)} />
          </Field>
          <Field path="kind" label="Kind" error={errors['kind']}>
            <Select value={f('kind')} options={KINDS} onChange={(v) => setDraft((d) => changeKind(d, v))} />
          </Field>
          {objects && (
            <Field path="attributes" label="Attributes (name:type, comma-separated)" error={errors['attributes']}>
              <ListInput value={f('attributes')} placeholder="helmet:boolean" onChange={(v) => set('attributes', v)} />
            </Field>
          )}
          <ConditionFields draft={draft} set={set} errors={errors} />
          <CamerasField value={draft.cameras} all={camIds} onChange={(v) => set('cameras', v)} error={errors['cameras']} />
          {objects && (
            <Field path="zones" label="Zones" error={errors['zones']} group>
              {watched.map((c) => (
                <ZoneEditor camera={c} polygons={get(draft, `zones.${c}`) as never} onChange={(p) => set(`zones.${c}`, p)} />
              ))}
            </Field>
          )}
          {objects && (
            <Field path="anchor" label="Anchor" error={errors['anchor']}>
              <Select value={f('anchor')} options={ANCHORS_UI} unset="(default)" onChange={(v) => set('anchor', v)} />
            </Field>
          )}
          <ScheduleField value={f('schedule') as never} onChange={(s) => set('schedule', s)} error={errors['schedule']} />
          <NumberField path="every" label="Every (s)" draft={draft} set={set} errors={errors} />
          <div class="field-group" data-field="clip">
            <NumberField path="clip.frames" label="Clip frames" draft={draft} set={set} errors={errors} step="1" />
            <NumberField path="clip.spacing" label="Clip spacing (s)" draft={draft} set={set} errors={errors} />
            {errors['clip'] && <span class="field-error">{errors['clip']}</span>}
          </div>
          <div class="field-group">
            <NumberField path="trigger.n" label="Trigger: positives (n)" draft={draft} set={set} errors={errors} step="1" />
            <NumberField path="trigger.of" label="Trigger: of the latest" draft={draft} set={set} errors={errors} step="1" />
          </div>
          <div class="field-group">
            <NumberField path="end.negatives" label="End: negatives in a row" draft={draft} set={set} errors={errors} step="1" />
            <NumberField path="end.maxSeconds" label="End: longest event (s)" draft={draft} set={set} errors={errors} />
          </div>
          <NumberField path="cooldown" label="Cooldown (s)" draft={draft} set={set} errors={errors} />
          <Field path="severity" label="Severity" error={errors['severity']}>
            <Select value={f('severity')} options={SEVERITIES_UI} onChange={(v) => set('severity', v)} />
          </Field>
          <div class="field-group">
            <NumberField path="padding.pre" label="Recording before (s)" draft={draft} set={set} errors={errors} />
            <NumberField path="padding.post" label="Recording after (s)" draft={draft} set={set} errors={errors} />
          </div>
          <Field path="notify.channels" label="Notify channels" error={errors['notify.channels'] ?? errors['notify']}>
            <ChannelPicker value={f('notify.channels')} onChange={(v) => set('notify.channels', v)} />
          </Field>
          <Field path="enabled" label="Enabled" error={errors['enabled']}>
            <input type="checkbox" checked={draft.enabled !== false} onChange={(e) => set('enabled', (e.currentTarget as HTMLInputElement).checked)} />
          </Field>
          {unshown(errors, objects).map(([path, message]) => (
            <p class="form-error" data-path={path}>
              {path ? `${path}: ` : ''}
              {message}
            </p>
          ))}
          <div class="row">
            <button type="submit" class="save-button">
              {saved ? 'Save new version' : 'Save rule'}
            </button>
            <span class="save-status">{status}</span>
          </div>
        </fieldset>
      </form>
      <TryIt body={() => toBody(saved ? { ...draft, id: saved.rule.id } : draft)} cameras={watched} onIssues={setIssues} />
      <VersionHistory versions={versions} />
    </div>
  );
}

/** A new kind starts with an empty condition; fields of object kinds go when the new kind has no objects. */
function changeKind(d: Draft, kind: string | undefined): Draft {
  const next: Draft = { ...setPath(d, 'kind', kind), condition: {} };
  if (!['detect', 'point', 'count'].includes(kind ?? '')) {
    delete next.attributes;
    delete next.zones;
  }
  return next;
}

/** Issues of no field on screen (e.g. attributes of a yes/no rule), and those naming no field at all. */
function unshown(errors: Record<string, string>, objects: boolean): [string, string][] {
  const hidden = objects ? [] : ['attributes', 'zones', 'anchor', 'condition.where', 'condition.min'];
  return Object.entries(errors).filter(([path]) => path === '' || hidden.includes(path));
}

function NumberField({ path, label, draft, set, errors, step }: { path: string; label: string; draft: Draft; set: (p: string, v: unknown) => void; errors: Record<string, string>; step?: string }) {
  return (
    <Field path={path} label={label} error={errors[path]}>
      <NumberInput value={get(draft, path)} step={step} onChange={(v) => set(path, v)} />
    </Field>
  );
}

function CamerasField({ value, all, onChange, error }: { value: unknown; all: string[]; onChange: (v: unknown) => void; error?: string | undefined }) {
  const chosen = Array.isArray(value) ? (value as string[]) : null;
  return (
    <Field path="cameras" label="Cameras" error={error} group>
      <div class="cameras-choice">
        <label class="check">
          <input type="checkbox" name="all-cameras" checked={!chosen} onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? 'all' : all.slice(0, 1))} />
          all
        </label>
        {chosen &&
          [...new Set([...all, ...chosen])].map((c) => (
            <label class="check">
              <input type="checkbox" value={c} checked={chosen.includes(c)} onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? [...chosen, c] : chosen.filter((x) => x !== c))} />
              {c}
            </label>
          ))}
      </div>
    </Field>
  );
}
