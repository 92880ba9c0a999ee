/** The AI summary's settings (`/api/assistant/settings`, admins): endpoint, model, key, what may leave, limits. */
import { type FormEvent, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { formatTime } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, Card, describedBy, Field, INPUT } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import type { AssistantSettings } from "./api";
import { useFormErrors } from "./useFormErrors";

const URL = "/api/assistant/settings";
const FIELDS = ["enabled", "base_url", "model", "api_key", "send_titles", "send_file_names", "send_log_excerpts", "timeout_seconds", "max_request_chars", "daily_call_limit", "daily_token_limit"] as const;
type NumberKey = "timeout_seconds" | "max_request_chars" | "daily_call_limit" | "daily_token_limit";
type Draft = Omit<AssistantSettings, "api_key_set" | "api_key_writable" | "usage_today" | "updated_at" | "updated_by" | NumberKey> & Record<NumberKey, string>;

export function AssistantAdmin() {
  const { auth } = useSession();
  const found = useQuery(() => auth.api.get<AssistantSettings>(URL), [auth], "The AI settings could not be loaded.");
  return (
    <LoadState data={found.data} error={found.error} loading="Loading the AI settings…" onRetry={found.reload}>
      {(settings) => <AssistantEditor key={settings.updated_at ?? "new"} settings={settings} onSaved={found.setData} />}
    </LoadState>
  );
}

function draftOf(settings: AssistantSettings): Draft {
  const text = (value: number | null) => (value === null ? "" : String(value));
  return {
    enabled: settings.enabled,
    base_url: settings.base_url,
    model: settings.model,
    send_titles: settings.send_titles,
    send_file_names: settings.send_file_names,
    send_log_excerpts: settings.send_log_excerpts,
    timeout_seconds: text(settings.timeout_seconds),
    max_request_chars: text(settings.max_request_chars),
    daily_call_limit: text(settings.daily_call_limit),
    daily_token_limit: text(settings.daily_token_limit),
  };
}

function AssistantEditor({ settings, onSaved }: { settings: AssistantSettings; onSaved: (saved: AssistantSettings) => void }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const [draft, setDraft] = useState<Draft>(() => draftOf(settings));
  const [apiKey, setApiKey] = useState("");
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(FIELDS);

  function set<K extends keyof Draft>(key: K, value: Draft[K]) {
    setDraft((current) => ({ ...current, [key]: value }));
  }

  async function save(extra: Record<string, unknown>) {
    errors.clear();
    setBusy(true);
    const limit = (value: string) => (value.trim() === "" ? null : Number(value));
    const body = {
      ...draft,
      timeout_seconds: Number(draft.timeout_seconds),
      max_request_chars: Number(draft.max_request_chars),
      daily_call_limit: limit(draft.daily_call_limit),
      daily_token_limit: limit(draft.daily_token_limit),
      ...(apiKey.trim() ? { api_key: apiKey } : {}),
      ...extra,
    };
    try {
      const saved = await auth.api.put<AssistantSettings>(URL, body);
      setApiKey("");
      onSaved(saved);
      toast.show("AI settings saved.", "success");
    } catch (failure) {
      errors.take(failure, "The AI settings could not be saved.");
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void save({});
  }

  const text = (key: "base_url" | "model", label: string, hint: string) => (
    <Field label={label} id={`${id}-${key}`} hint={hint} error={errors.field(key)}>
      <input id={`${id}-${key}`} value={draft[key]} onChange={(e) => set(key, e.target.value)} className={INPUT} {...describedBy(`${id}-${key}`, true, errors.field(key))} />
    </Field>
  );
  const number = (key: NumberKey, label: string, hint: string) => (
    <Field label={label} id={`${id}-${key}`} hint={hint} error={errors.field(key)}>
      <input id={`${id}-${key}`} type="number" min={0} value={draft[key]} onChange={(e) => set(key, e.target.value)} className={INPUT} {...describedBy(`${id}-${key}`, true, errors.field(key))} />
    </Field>
  );
  const allow = (key: "send_titles" | "send_file_names" | "send_log_excerpts", label: string) => (
    <label className="flex items-center gap-2">
      <input type="checkbox" checked={draft[key]} onChange={(e) => set(key, e.target.checked)} /> {label}
    </label>
  );
  const keyHint = settings.api_key_set ? "A key is stored (never shown). Type a new one to replace it." : "None stored. Local endpoints often need none.";

  return (
    <Card title="AI summary">
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-300">
        An optional, advisory summary in "Explain" from any OpenAI-compatible chat-completions endpoint, hosted or local, for the projects that opt in. It never changes the queue; when it fails, people see the plain diagnosis.
        Secrets and tokens are removed before anything is sent, and each call is audited.
      </p>
      <form aria-label="AI settings" onSubmit={submit} className="grid gap-4 md:grid-cols-2" noValidate>
        {errors.form ? <p role="alert" className="text-sm text-red-700 md:col-span-2 dark:text-red-400">{errors.form}</p> : null}
        <label className="flex items-center gap-2 text-sm font-medium md:col-span-2">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => set("enabled", e.target.checked)} /> Enable the AI summary
        </label>
        {text("base_url", "Base URL", "The endpoint's address up to /v1, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1.")}
        {text("model", "Model", "As the endpoint names it, e.g. gpt-4o-mini or llama3.1:8b.")}
        <Field label="API key" id={`${id}-api_key`} hint={settings.api_key_writable ? keyHint : `${keyHint} The secrets provider is read-only: set the secret assistant-api-key there.`} error={errors.field("api_key")}>
          <input id={`${id}-api_key`} type="password" autoComplete="off" value={apiKey} disabled={!settings.api_key_writable} onChange={(e) => setApiKey(e.target.value)} className={INPUT} {...describedBy(`${id}-api_key`, true, errors.field("api_key"))} />
        </Field>
        <fieldset className="flex flex-col gap-2 text-sm">
          <legend className="mb-1 font-medium">What may leave</legend>
          {allow("send_titles", "Merge request titles")}
          {allow("send_file_names", "File names")}
          {allow("send_log_excerpts", "Log excerpts of failed jobs")}
          <p className="text-xs text-slate-500 dark:text-slate-400">Always sent: the plain diagnosis (state, reasons, strikes, job names, next step). Never: project paths, links, usernames.</p>
        </fieldset>
        {number("timeout_seconds", "Time-out (seconds)", "1 to 120: the whole answer must arrive within it.")}
        {number("max_request_chars", "Largest request (characters)", "1000 to 200000; the oldest log lines are dropped first.")}
        {number("daily_call_limit", "Calls per day", "Empty: no limit. Counted per UTC day.")}
        {number("daily_token_limit", "Tokens per day", "Empty: no limit. As the endpoint counts them.")}
        <p className="text-sm md:col-span-2">
          Today: {settings.usage_today.calls} calls, {settings.usage_today.tokens} tokens.
          {settings.updated_at ? ` Last changed ${formatTime(settings.updated_at)}${settings.updated_by ? ` by ${settings.updated_by}` : ""}.` : ""}
        </p>
        <div className="flex items-center gap-3 md:col-span-2">
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? "Saving…" : "Save AI settings"}
          </Button>
          {settings.api_key_set && settings.api_key_writable ? (
            <Button onClick={() => void save({ clear_api_key: true })} disabled={busy}>
              Remove the API key
            </Button>
          ) : null}
        </div>
      </form>
    </Card>
  );
}
