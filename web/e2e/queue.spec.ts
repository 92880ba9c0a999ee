import { expect, type Page, test } from "@playwright/test";
import { QUEUE_PROJECT, screenshot, setSandboxClockSpeed, signIn } from "./support";

/**
 * The real merge queue of `machining/fixtures` (onboarded by global setup) against the GitLab
 * sandbox. Its four MRs wait while their pipelines run (an hour of sandbox time); the last test
 * speeds the sandbox clock up, so CI finishes and the product lands them. In this order.
 */
test.describe.configure({ mode: "serial" });

const TITLES = {
  1: "Probe cycle for the second fixture",
  2: "Tool table: add 6 mm ball end mill",
  3: "Coolant on for the finishing pass",
  4: "Experimental adaptive clearing",
} as const;

const waiting = (page: Page) => page.getByRole("region", { name: /^Waiting for pipeline or checks/ });
/** The MR links of a group, in the order shown ("!3 Coolant on …"). */
const mrLinks = (page: Page, group: RegExp) => page.getByRole("region", { name: group }).getByRole("link", { name: /^!\d+ / });

test("a viewer sees the queue read-only, and the server refuses a priority change", async ({ page, request }) => {
  await signIn(page, "vera");
  await expect(page.getByRole("combobox", { name: "Project" }).locator("option:checked")).toHaveText(QUEUE_PROJECT);
  await expect(waiting(page)).toHaveAccessibleName("Waiting for pipeline or checks (4)");
  await expect(mrLinks(page, /^Waiting/)).toHaveText([/^!1 /, /^!2 /, /^!3 /, /^!4 /]);
  await expect(page.getByText("Read-only: changing priorities needs the priority manager role")).toBeVisible();
  await expect(page.getByRole("button", { name: /^Raise priority/ })).toHaveCount(0);

  // Even without the buttons, the API says no (and why) to the viewer.
  const login = await request.post("/api/auth/login", {
    data: { username: "vera", password: process.env.MERGE_ASSIST_E2E_VIEWER_PASSWORD },
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const list = await request.get(`/api/projects/${process.env.MERGE_ASSIST_E2E_PROJECT_ID}/mrs`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const { items } = (await list.json()) as { items: { id: number; iid: number }[] };
  const third = items.find((mr) => mr.iid === 3);
  const refusal = await request.post(`/api/mrs/${third?.id}/priority`, {
    data: { priority: 1 },
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(refusal.status()).toBe(403);
  expect(((await refusal.json()) as { detail: string }).detail).toContain("priority_manager");
});

test("an administrator raises a priority and the landing order changes", async ({ page }) => {
  await signIn(page);
  await expect(mrLinks(page, /^Waiting/)).toHaveText([/^!1 /, /^!2 /, /^!3 /, /^!4 /]);
  await expect(page.getByText("You may change priorities here (at most 5 raised at once).")).toBeVisible();

  await page.getByRole("button", { name: "Raise priority of !3" }).click();
  await expect(page.getByRole("status", { name: "Notifications" })).toContainText("!3 now has priority 1.");
  await expect(mrLinks(page, /^Waiting/)).toHaveText([/^!3 /, /^!1 /, /^!2 /, /^!4 /]);
  // The keyboard does the same on a focused row: Alt+Up gives !4 priority 1, above !1 and !2,
  // behind !3 (equal priorities land in the order recognised, then by number).
  await page.getByRole("row", { name: /^!4 .*, place 4;/ }).focus();
  await page.keyboard.press("Alt+ArrowUp");
  await expect(page.getByRole("status", { name: "Notifications" })).toContainText("!4 now has priority 1.");
  await expect(mrLinks(page, /^Waiting/)).toHaveText([/^!3 /, /^!4 /, /^!1 /, /^!2 /]);
  await expect(page.getByRole("row", { name: /^!3 / })).toContainText(TITLES[3]);
  await screenshot(page, "merge-queue", { top: true });
});

test("MRs move from the queue to Merged while the page is open (no reload)", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page);
  await expect(waiting(page)).toHaveAccessibleName("Waiting for pipeline or checks (4)");
  await expect(page.getByRole("region", { name: "Merged (0)" })).toBeVisible();
  // Anything that reloads the page would drop this mark.
  await page.evaluate(() => ((window as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));

  // An hour of CI per second: the pipelines finish, GitLab's webhooks wake the queue, the
  // worker merges one MR after the other (rebased and tested again), the CI breaker is rejected.
  await setSandboxClockSpeed(3600);
  try {
    await expect(mrLinks(page, /^Merged/)).toHaveText([/^!\d /, /^!\d /, /^!\d /], { timeout: 90_000 });
  } finally {
    await setSandboxClockSpeed(1);
  }
  await expect(page.getByRole("region", { name: "Merged (3)" })).toContainText(TITLES[1]);
  const rejected = page.getByRole("region", { name: "Rejected (1)" });
  await expect(rejected).toContainText(TITLES[4]);
  await expect(waiting(page)).toHaveAccessibleName("Waiting for pipeline or checks (0)");
  expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);

  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Logs", exact: true }).click();
  await expect(page.getByRole("log", { name: `Log of ${QUEUE_PROJECT}` })).toContainText("!4");
  await screenshot(page, "logs", { top: true });

  await page.getByRole("switch", { name: "Dark theme" }).click();
  await nav.getByRole("link", { name: "Merge queue", exact: true }).click();
  const merged = page.getByRole("region", { name: "Merged (3)" });
  await expect(merged).toBeVisible();
  await merged.evaluate((region) => region.scrollIntoView({ block: "end" }));
  await screenshot(page, "merge-queue-dark");
});

test("an administrator sets up the AI summary; Explain shows it beside the plain diagnosis of the rejected MR", async ({ page }) => {
  await signIn(page);
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Administration" }).click();
  // The instance's AI: the sandbox's chat-completions stand-in (the key is the environment's secret).
  await page.getByRole("tab", { name: "AI summary" }).click();
  const ai = page.getByRole("form", { name: "AI settings" });
  await expect(ai.getByLabel("API key")).toHaveAccessibleDescription(/A key is stored \(never shown\).*read-only/);
  await ai.getByLabel("Enable the AI summary").check();
  await ai.getByLabel("Base URL").fill(process.env.MERGE_ASSIST_E2E_CHAT_URL ?? "");
  await ai.getByLabel("Model").fill("stand-in-1");
  await ai.getByLabel("Merge request titles").check();
  await ai.getByLabel("Log excerpts of failed jobs").check();
  await ai.getByLabel("Calls per day").fill("20");
  await ai.getByRole("button", { name: "Save AI settings" }).click();
  await expect(page.getByRole("status", { name: "Notifications" })).toContainText("AI settings saved.");

  // The project opts in (its settings checkbox).
  await page.getByRole("tab", { name: "Projects" }).click();
  await page.getByRole("combobox", { name: "Project" }).selectOption({ label: QUEUE_PROJECT });
  const settings = page.getByRole("form", { name: "Project settings" });
  await settings.getByLabel(/AI summary in "Explain"/).check();
  await settings.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status", { name: "Notifications" })).toContainText(`Settings of ${QUEUE_PROJECT} saved.`);

  await nav.getByRole("link", { name: "Merge queue", exact: true }).click();
  await page.getByRole("button", { name: "Explain !4" }).click();
  const dialog = page.getByRole("dialog", { name: "Why isn't !4 merging?" });
  // The plain diagnosis: rejected, the failing job's log, what to do next.
  await expect(dialog.getByRole("region", { name: "Next step" })).toContainText("assign the bot again to queue it anew.");
  await expect(dialog.getByRole("region", { name: /^Failed job / }).first()).toBeVisible();
  // And the AI's summary, marked as such.
  const summary = dialog.getByRole("region", { name: "AI summary" });
  await expect(summary).toContainText("AI-generated");
  await expect(summary).toContainText("The merge request was rejected because its pipeline kept failing.");
  await expect(summary).toContainText("Advisory, by stand-in-1");
  await screenshot(page, "explain-ai", { top: true });
});
