/** The instance's alert channels and thresholds (administrators), with a test alert. */
import { type FormEvent, useEffect, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, Card, describedBy, Field, INPUT } from "../components/Page";
import { useToast } from "../components/Toasts";
import type { Query } from "../components/useQuery";
import { useFormErrors } from "../admin/useFormErrors";
import { type AlertSettings, type AlertSettingsChange, describeDeliveries, type SmtpSecurity, type TestAlertResult } from "./alerts";

const FIELDS = [
  "smtp_host",
  "smtp_port",
  "smtp_username",
  "smtp_password",
  "email_from",
  "email_to",
  "webhook_url",
  "silent_after_seconds",
  "stuck_after_minutes",
  "token_expiry_days",
  "rate_limit_per_hour",
  "evaluate_every_seconds",
] as const;

type NumberField = "smtp_port" | "silent_after_seconds" | "stuck_after_minutes" | "token_expiry_days" | "rate_limit_per_hour" | "evaluate_every_seconds";

interface Draft {
  email_enabled: boolean;
  smtp_host: string;
  smtp_port: string;
  smtp_security: SmtpSecurity;
  smtp_username: string;
  smtp_password: string;
  email_from: string;
  email_to: string;
  webhook_enabled: boolean;
  webhook_url: string;
  silent_after_seconds: string;
  stuck_after_minutes: string;
  token_expiry_days: string;
  rate_limit_per_hour: string;
  evaluate_every_seconds: string;
  forget_smtp_password: boolean;
  forget_webhook_url: boolean;
}

function draftOf(settings: AlertSettings): Draft {
  return {
    email_enabled: settings.email_enabled,
    smtp_host: settings.smtp_host,
    smtp_port: String(settings.smtp_port),
    smtp_security: settings.smtp_security,
    smtp_username: settings.smtp_username,
    smtp_password: "",
    email_from: settings.email_from,
    email_to: settings.email_to.join(", "),
    webhook_enabled: settings.webhook_enabled,
    webhook_url: "",
    silent_after_seconds: String(settings.silent_after_seconds),
    stuck_after_minutes: String(settings.stuck_after_minutes),
    token_expiry_days: String(settings.token_expiry_days),
    rate_limit_per_hour: String(settings.rate_limit_per_hour),
    evaluate_every_seconds: String(settings.evaluate_every_seconds),
    forget_smtp_password: false,
    forget_webhook_url: false,
  };
}

/** The change to send: every plain field, and a secret only when one was typed. */
export function changeOf(draft: Draft): AlertSettingsChange {
  const numbers: NumberField[] = ["smtp_port", "silent_after_seconds", "stuck_after_minutes", "token_expiry_days", "rate_limit_per_hour", "evaluate_every_seconds"];
  const change: AlertSettingsChange = {
    email_enabled: draft.email_enabled,
    smtp_host: draft.smtp_host.trim(),
    smtp_security: draft.smtp_security,
    smtp_username: draft.smtp_username.trim(),
    email_from: draft.email_from.trim(),
    email_to: draft.email_to
      .split(/[\s,;]+/)
      .map((address) => address.trim())
      .filter(Boolean),
    webhook_enabled: draft.webhook_enabled,
  };
  for (const name of numbers) change[name] = Number(draft[name]);
  // A secret goes only when typed, or as "" to remove the stored one.
  if (draft.smtp_password) change.smtp_password = draft.smtp_password;
  else if (draft.forget_smtp_password) change.smtp_password = "";
  if (draft.webhook_url.trim()) change.webhook_url = draft.webhook_url.trim();
  else if (draft.forget_webhook_url) change.webhook_url = "";
  return change;
}

export function AlertSettingsForm({ settings, onSaved }: { settings: Query<AlertSettings>; onSaved: () => void }) {
  return (
    <Card title="Alert settings">
      <LoadState data={settings.data} error={settings.error} loading="Reading the alert settings…">
        {(found) => <SettingsEditor settings={found} onSaved={() => { settings.reload(); onSaved(); }} />}
      </LoadState>
    </Card>
  );
}

function SettingsEditor({ settings, onSaved }: { settings: AlertSettings; onSaved: () => void }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const errors = useFormErrors(FIELDS);
  const [draft, setDraft] = useState<Draft>(() => draftOf(settings));
  const [busy, setBusy] = useState(false);
  const [tested, setTested] = useState<string | null>(null);
  useEffect(() => setDraft(draftOf(settings)), [settings]);

  function set<K extends keyof Draft>(name: K, value: Draft[K]) {
    setDraft((current) => ({ ...current, [name]: value }));
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    errors.clear();
    setBusy(true);
    try {
      await auth.api.put<AlertSettings>("/api/health/alerts/settings", changeOf(draft));
      toast.show("The alert settings are saved.", "success");
      onSaved();
    } catch (failure) {
      errors.take(failure, "The alert settings could not be saved.");
    } finally {
      setBusy(false);
    }
  }

  async function sendTest() {
    setTested(null);
    try {
      const result = await auth.api.post<TestAlertResult>("/api/health/alerts/test");
      setTested(describeDeliveries(result.deliveries));
    } catch (failure) {
      setTested(sentenceOf(failure, "The test alert could not be sent."));
    }
  }

  const text = (name: (typeof FIELDS)[number] & keyof Draft, label: string, options: { type?: string; hint?: string; placeholder?: string } = {}) => (
    <Field label={label} id={`${id}-${name}`} error={errors.field(name)} {...(options.hint ? { hint: options.hint } : {})}>
      <input
        id={`${id}-${name}`}
        type={options.type ?? "text"}
        value={draft[name] as string}
        placeholder={options.placeholder}
        autoComplete="off"
        onChange={(event) => set(name, event.target.value)}
        className={INPUT}
        {...describedBy(`${id}-${name}`, Boolean(options.hint), errors.field(name))}
      />
    </Field>
  );

  return (
    <form onSubmit={save} className="flex flex-col gap-4" aria-label="Alert settings">
      {errors.form ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {errors.form}
        </p>
      ) : null}
      <fieldset className="grid gap-3 md:grid-cols-2">
        <legend className="mb-2 text-sm font-semibold">E-mail (SMTP)</legend>
        <label className="flex items-center gap-2 text-sm md:col-span-2">
          <input type="checkbox" checked={draft.email_enabled} onChange={(event) => set("email_enabled", event.target.checked)} />
          Send alerts by e-mail
        </label>
        {text("smtp_host", "SMTP host")}
        {text("smtp_port", "SMTP port", { type: "number" })}
        <Field label="Security" id={`${id}-security`}>
          <select id={`${id}-security`} value={draft.smtp_security} onChange={(event) => set("smtp_security", event.target.value as SmtpSecurity)} className={INPUT}>
            <option value="starttls">STARTTLS</option>
            <option value="tls">TLS</option>
            <option value="none">none (local relay only)</option>
          </select>
        </Field>
        {text("smtp_username", "SMTP user name")}
        {text("smtp_password", "SMTP password", {
          type: "password",
          hint: settings.smtp_password_set ? "A password is stored; leave empty to keep it." : "None stored.",
        })}
        {settings.smtp_password_set ? (
          <label className="flex items-center gap-2 self-end text-sm">
            <input type="checkbox" checked={draft.forget_smtp_password} onChange={(event) => set("forget_smtp_password", event.target.checked)} />
            Remove the stored password
          </label>
        ) : null}
        {text("email_from", "From", { placeholder: "merge-assist@example.com" })}
        {text("email_to", "To", { hint: "Addresses separated by commas.", placeholder: "ops@example.com" })}
      </fieldset>
      <fieldset className="grid gap-3">
        <legend className="mb-2 text-sm font-semibold">Incoming webhook (Slack-compatible)</legend>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={draft.webhook_enabled} onChange={(event) => set("webhook_enabled", event.target.checked)} />
          Post alerts to an incoming webhook
        </label>
        {text("webhook_url", "Webhook URL", {
          type: "password",
          hint: settings.webhook_url_set ? "A URL is stored (it is a credential, never shown); leave empty to keep it." : "None stored.",
          placeholder: "https://hooks.slack.com/services/…",
        })}
        {settings.webhook_url_set ? (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={draft.forget_webhook_url} onChange={(event) => set("forget_webhook_url", event.target.checked)} />
            Remove the stored URL
          </label>
        ) : null}
      </fieldset>
      <fieldset className="grid gap-3 md:grid-cols-3">
        <legend className="mb-2 text-sm font-semibold">Thresholds</legend>
        {text("silent_after_seconds", "Process silent after (seconds)", { type: "number" })}
        {text("stuck_after_minutes", "Merge request stuck after (minutes)", { type: "number" })}
        {text("token_expiry_days", "Warn of token expiry (days before)", { type: "number" })}
        {text("rate_limit_per_hour", "Notifications per channel per hour", { type: "number" })}
        {text("evaluate_every_seconds", "Check every (seconds)", { type: "number" })}
      </fieldset>
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" variant="primary" disabled={busy}>
          Save alert settings
        </Button>
        <Button onClick={() => void sendTest()}>Send test alert</Button>
        {tested ? (
          <p role="status" className="text-sm">
            Test alert: {tested}
          </p>
        ) : null}
      </div>
      <p className="text-xs text-slate-500">
        Last changed {settings.updated_by ? `by ${settings.updated_by}` : "never"}.
      </p>
    </form>
  );
}
