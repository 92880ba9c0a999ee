/** Shapes of `/api/health/alerts*` (administrators only). */

export type SmtpSecurity = "none" | "starttls" | "tls";

export interface AlertSettings {
  email_enabled: boolean;
  smtp_host: string;
  smtp_port: number;
  smtp_security: SmtpSecurity;
  smtp_username: string;
  smtp_password_set: boolean;
  email_from: string;
  email_to: string[];
  webhook_enabled: boolean;
  webhook_url_set: boolean;
  silent_after_seconds: number;
  stuck_after_minutes: number;
  token_expiry_days: number;
  rate_limit_per_hour: number;
  evaluate_every_seconds: number;
  updated_at: string;
  updated_by: string | null;
}

/** What the form sends: secrets only when typed (an empty string removes one). */
export type AlertSettingsChange = Partial<Omit<AlertSettings, "smtp_password_set" | "webhook_url_set" | "updated_at" | "updated_by">> & {
  smtp_password?: string;
  webhook_url?: string;
};

export interface AlertDelivery {
  channel: string;
  kind: "firing" | "resolved" | "test";
  status: "sent" | "failed" | "rate_limited";
  error: string | null;
  created_at: string;
}

export interface AlertIncident {
  id: number;
  key: string;
  rule: string;
  subject: string;
  message: string;
  opened_at: string;
  resolved_at: string | null;
  deliveries: AlertDelivery[];
}

export interface RecentAlerts {
  open: number;
  incidents: AlertIncident[];
}

export interface TestAlertResult {
  deliveries: AlertDelivery[];
}

const STATUS_LABEL: Record<AlertDelivery["status"], string> = { sent: "sent", failed: "failed", rate_limited: "held back (rate limit)" };

/** "email: firing sent, resolved sent · webhook: firing failed (…)". */
export function describeDeliveries(deliveries: AlertDelivery[]): string {
  if (deliveries.length === 0) return "no channel turned on";
  const byChannel = new Map<string, string[]>();
  for (const delivery of deliveries) {
    const line = `${delivery.kind} ${STATUS_LABEL[delivery.status]}${delivery.error ? ` (${delivery.error})` : ""}`;
    byChannel.set(delivery.channel, [...(byChannel.get(delivery.channel) ?? []), line]);
  }
  return [...byChannel.entries()].map(([channel, lines]) => `${channel}: ${lines.join(", ")}`).join(" · ");
}
