/** The onboarding check of a project: what is wrong between GitLab and Merge Assist, line by line. */
import { useState } from "react";
import { useSession } from "../auth/AuthContext";
import { sentenceOf } from "../components/format";
import { Button, Card } from "../components/Page";
import type { Project } from "../projects/ProjectContext";

export interface CheckLine {
  name: string;
  status: "ok" | "warning" | "failing";
  sentence: string;
  fix: string | null;
}

export interface OnboardingCheck {
  project: string;
  bot_username: string | null;
  ok: boolean;
  checks: CheckLine[];
}

const STATUS_CLASS: Record<CheckLine["status"], string> = {
  ok: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100",
  warning: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  failing: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
};

export function ConnectionCheck({ project }: { project: Project }) {
  const { auth } = useSession();
  const [report, setReport] = useState<OnboardingCheck | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run() {
    setBusy(true);
    setError(null);
    try {
      setReport(await auth.api.post<OnboardingCheck>(`/api/projects/${project.id}/check`, {}));
    } catch (failure) {
      setReport(null);
      setError(sentenceOf(failure, "The check could not run."));
    } finally {
      setBusy(false);
    }
  }

  const failing = report?.checks.filter((line) => line.status === "failing").length ?? 0;
  return (
    <Card title="Connection to GitLab">
      <div className="flex flex-col gap-3 text-sm">
        <p>Checks the bot token, the bot’s role, the target branches, “Pipelines must succeed”, our webhook, and sends a test delivery from GitLab (a few seconds).</p>
        <div>
          <Button type="button" onClick={() => void run()} disabled={busy}>
            {busy ? "Checking…" : "Check connection"}
          </Button>
        </div>
        {error ? <p role="alert" className="text-red-700 dark:text-red-400">{error}</p> : null}
        {report ? (
          <>
            <p role="status">{report.ok ? `Ready: nothing blocks ${report.project}${report.bot_username ? ` for ${report.bot_username}` : ""}.` : `${failing} ${failing === 1 ? "check fails" : "checks fail"}: see how to fix below.`}</p>
            <ul aria-label="Connection checks" className="flex flex-col gap-2">
              {report.checks.map((line) => (
                <li key={line.name} className="flex flex-col gap-1">
                  <span>
                    <span className={`mr-2 rounded px-1.5 py-0.5 text-xs font-medium ${STATUS_CLASS[line.status]}`}>{line.status}</span>
                    <strong>{line.name}</strong>: {line.sentence}
                  </span>
                  {line.fix && line.status !== "ok" ? <span className="pl-4 text-slate-600 dark:text-slate-300">How to fix: {line.fix}</span> : null}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </div>
    </Card>
  );
}
