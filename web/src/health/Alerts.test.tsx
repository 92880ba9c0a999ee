import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { answer, fakeApi } from "../testing/fakeApi";
import { ADA } from "../testing/fakeAuth";
import { renderPage } from "../testing/renderPage";
import type { AlertSettings, RecentAlerts } from "./alerts";
import { describeDeliveries } from "./alerts";
import { HealthPage } from "./HealthPage";

const SETTINGS: AlertSettings = {
  email_enabled: true,
  smtp_host: "smtp.example.com",
  smtp_port: 587,
  smtp_security: "starttls",
  smtp_username: "alerts",
  smtp_password_set: true,
  email_from: "merge-assist@example.com",
  email_to: ["ops@example.com", "oncall@example.com"],
  webhook_enabled: false,
  webhook_url_set: false,
  silent_after_seconds: 180,
  stuck_after_minutes: 120,
  token_expiry_days: 14,
  rate_limit_per_hour: 20,
  evaluate_every_seconds: 60,
  updated_at: "2026-12-06T10:00:00Z",
  updated_by: "ada",
};

const RECENT: RecentAlerts = {
  open: 1,
  incidents: [
    {
      id: 2,
      key: "process_silent:worker-a1",
      rule: "process_silent",
      subject: "The worker worker-a1 has gone silent",
      message: "No heartbeat for 5 minutes.",
      opened_at: "2026-12-06T11:00:00Z",
      resolved_at: null,
      deliveries: [
        { channel: "email", kind: "firing", status: "sent", error: null, created_at: "2026-12-06T11:00:00Z" },
        { channel: "webhook", kind: "firing", status: "rate_limited", error: null, created_at: "2026-12-06T11:00:00Z" },
      ],
    },
    {
      id: 1,
      key: "gitlab_unreachable",
      rule: "gitlab_unreachable",
      subject: "GitLab is unreachable",
      message: "Connection refused.",
      opened_at: "2026-12-06T09:00:00Z",
      resolved_at: "2026-12-06T09:10:00Z",
      deliveries: [],
    },
  ],
};

function alertsApi(extra: Record<string, unknown> = {}) {
  return fakeApi({
    "GET /api/projects": [],
    "GET /api/health/ready": { status: "ready", database: "sqlite" },
    "GET /api/health/status": answer(404, { detail: "Not Found" }),
    "GET /api/health/alerts": RECENT,
    "GET /api/health/alerts/settings": SETTINGS,
    ...extra,
  });
}

describe("alerts on the health page", () => {
  it("lists the recent alerts with what was sent on each channel", async () => {
    renderPage(<HealthPage />, { api: alertsApi() });
    const table = await screen.findByRole("table", { name: "Recent alerts" });
    const firing = within(table).getByRole("row", { name: /worker-a1 has gone silent/ });
    expect(firing).toHaveTextContent("firing");
    expect(firing).toHaveTextContent("email: firing sent · webhook: firing held back (rate limit)");
    expect(within(table).getByRole("row", { name: /GitLab is unreachable/ })).toHaveTextContent("resolved");
    expect(screen.getByText("1 alert is firing.")).toBeInTheDocument();
  });

  it("shows the settings without secrets and saves only what was typed", async () => {
    const api = alertsApi({ "PUT /api/health/alerts/settings": SETTINGS });
    const { user } = renderPage(<HealthPage />, { api });
    const form = await screen.findByRole("form", { name: "Alert settings" });
    expect(within(form).getByLabelText("SMTP host")).toHaveValue("smtp.example.com");
    expect(within(form).getByLabelText("SMTP password")).toHaveValue("");
    expect(within(form).getByText("A password is stored; leave empty to keep it.")).toBeInTheDocument();
    expect(within(form).getByLabelText("To")).toHaveValue("ops@example.com, oncall@example.com");

    await user.click(within(form).getByLabelText("Post alerts to an incoming webhook"));
    await user.type(within(form).getByLabelText("Webhook URL"), "https://hooks.example.com/services/T/B/x");
    await user.clear(within(form).getByLabelText("Merge request stuck after (minutes)"));
    await user.type(within(form).getByLabelText("Merge request stuck after (minutes)"), "45");
    await user.click(within(form).getByRole("button", { name: "Save alert settings" }));

    await waitFor(() => expect(api.callsTo("PUT /api/health/alerts/settings")).toHaveLength(1));
    const sent = api.callsTo("PUT /api/health/alerts/settings")[0]?.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      webhook_enabled: true,
      webhook_url: "https://hooks.example.com/services/T/B/x",
      stuck_after_minutes: 45,
      email_to: ["ops@example.com", "oncall@example.com"],
    });
    expect(sent).not.toHaveProperty("smtp_password"); // left empty: the stored one stays
    expect(await screen.findByText("The alert settings are saved.")).toBeInTheDocument();
  });

  it("removes a stored secret only when asked", async () => {
    const api = alertsApi({ "PUT /api/health/alerts/settings": SETTINGS });
    const { user } = renderPage(<HealthPage />, { api });
    const form = await screen.findByRole("form", { name: "Alert settings" });
    expect(within(form).queryByLabelText("Remove the stored URL")).toBeNull(); // none stored
    await user.click(within(form).getByLabelText("Send alerts by e-mail"));
    await user.click(within(form).getByLabelText("Remove the stored password"));
    await user.click(within(form).getByRole("button", { name: "Save alert settings" }));
    await waitFor(() => expect(api.callsTo("PUT /api/health/alerts/settings")).toHaveLength(1));
    const sent = api.callsTo("PUT /api/health/alerts/settings")[0]?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ email_enabled: false, smtp_password: "" });
    expect(sent).not.toHaveProperty("webhook_url");
  });

  it("shows the server's refusal next to the field", async () => {
    const refusal = answer(422, { detail: "Invalid request: webhook_url: Value error, the webhook URL must be an http:// or https:// address", code: "validation_error" });
    const { user } = renderPage(<HealthPage />, { api: alertsApi({ "PUT /api/health/alerts/settings": refusal }) });
    const form = await screen.findByRole("form", { name: "Alert settings" });
    await user.type(within(form).getByLabelText("Webhook URL"), "ftp://nope");
    await user.click(within(form).getByRole("button", { name: "Save alert settings" }));
    expect(await within(form).findByText(/the webhook URL must be an http/)).toBeInTheDocument();
    expect(within(form).getByLabelText("Webhook URL")).toHaveAttribute("aria-invalid", "true");
  });

  it("sends a test alert and says what happened on each channel", async () => {
    const tested = {
      deliveries: [
        { channel: "email", kind: "test", status: "sent", error: null, created_at: "2026-12-06T12:00:00Z" },
        { channel: "webhook", kind: "test", status: "failed", error: "The webhook answered HTTP 500.", created_at: "2026-12-06T12:00:00Z" },
      ],
    };
    const api = alertsApi({ "POST /api/health/alerts/test": tested });
    const { user } = renderPage(<HealthPage />, { api });
    await user.click(await screen.findByRole("button", { name: "Send test alert" }));
    expect(await screen.findByText(/^Test alert:/)).toHaveTextContent(
      "Test alert: email: test sent · webhook: test failed (The webhook answered HTTP 500.)",
    );
    expect(api.callsTo("POST /api/health/alerts/test")).toHaveLength(1);
  });

  it("is not shown to, nor asked for by, users who are not administrators", async () => {
    const api = alertsApi();
    renderPage(<HealthPage />, { api, user: { ...ADA, username: "vic", roles: ["viewer"] } });
    expect(await screen.findByText("sqlite")).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Recent alerts" })).toBeNull();
    expect(screen.queryByRole("form", { name: "Alert settings" })).toBeNull();
    expect(api.callsTo("GET /api/health/alerts")).toHaveLength(0);
    expect(api.callsTo("GET /api/health/alerts/settings")).toHaveLength(0);
  });

  it("describes deliveries per channel", () => {
    expect(describeDeliveries([])).toBe("no channel turned on");
  });
});
