/** Projects: onboard one from GitLab, and edit the chosen project's merge-queue settings. */
import { type FormEvent, useId, useState } from "react";
import { useSession } from "../auth/AuthContext";
import { type Column, DataTable } from "../components/DataTable";
import { formatTime, sentenceOf } from "../components/format";
import { LoadState } from "../components/LoadState";
import { Button, Card, describedBy, Field, INPUT, Notice } from "../components/Page";
import { useToast } from "../components/Toasts";
import { useQuery } from "../components/useQuery";
import { type Project, useProjects } from "../projects/ProjectContext";
import { LANDINGS, LABEL_KEYS, type ProjectConfig, STRATEGIES } from "./api";
import { ConnectionCheck } from "./ConnectionCheck";
import { ProjectPermissions } from "./ProjectPermissions";
import { useFormErrors } from "./useFormErrors";

export function ProjectsAdmin({ isAdmin }: { isAdmin: boolean }) {
  const { projects, project, choose } = useProjects();
  return (
    <div className="flex flex-col gap-4">
      {isAdmin ? <OnboardForm /> : null}
      <Card title="Projects">
        <DataTable
          caption="Projects"
          columns={projectColumns(project, choose)}
          rows={projects}
          rowKey={(item) => item.id}
          empty={
            <Notice title="No projects are connected yet.">
              {isAdmin ? "Onboard one above with its GitLab id or path; the bot account must be able to read it." : "An administrator onboards projects."}
            </Notice>
          }
        />
      </Card>
      {project ? <ConfigForm key={project.id} project={project} /> : null}
      {project ? <ConnectionCheck key={`check-${project.id}`} project={project} /> : null}
      {project && isAdmin ? <ProjectPermissions key={`permissions-${project.id}`} project={project} /> : null}
      {project && isAdmin ? <DeactivateProject project={project} /> : null}
    </div>
  );
}

function projectColumns(chosen: Project | null, choose: (id: number) => void): Column<Project>[] {
  return [
    { header: "Project", cell: (item) => item.path_with_namespace },
    { header: "GitLab id", cell: (item) => item.gitlab_project_id },
    { header: "Default branch", cell: (item) => item.default_branch ?? "—" },
    { header: "Webhook", cell: (item) => (item.webhook_id ? "registered" : "none (polling)") },
    {
      header: "Actions",
      hideHeader: true,
      cell: (item) => (
        <Button aria-pressed={chosen?.id === item.id} onClick={() => choose(item.id)} aria-label={`Settings of ${item.path_with_namespace}`}>
          Settings
        </Button>
      ),
    },
  ];
}

/** Stop queueing a project: our webhook goes, its history stays (admin, after a confirmation). */
function DeactivateProject({ project }: { project: Project }) {
  const { auth } = useSession();
  const toast = useToast();
  const { reload } = useProjects();
  const [confirming, setConfirming] = useState(false);

  async function deactivate() {
    try {
      await auth.api.del(`/api/projects/${project.id}`);
      toast.show(`${project.path_with_namespace} is deactivated; its history is kept.`, "success");
      reload();
    } catch (failure) {
      toast.show(sentenceOf(failure, "The project could not be deactivated."), "error");
    } finally {
      setConfirming(false);
    }
  }

  return (
    <Card title="Deactivate">
      {confirming ? (
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <span>Stop the merge queue of {project.path_with_namespace} and remove its webhook?</span>
          <Button variant="danger" onClick={() => void deactivate()}>Yes, deactivate</Button>
          <Button onClick={() => setConfirming(false)}>Keep it</Button>
        </div>
      ) : (
        <Button variant="danger" onClick={() => setConfirming(true)}>Deactivate {project.path_with_namespace}</Button>
      )}
    </Card>
  );
}

function OnboardForm() {
  const { auth } = useSession();
  const toast = useToast();
  const { reload, choose } = useProjects();
  const id = useId();
  const [reference, setReference] = useState("");
  const [strategy, setStrategy] = useState("single");
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(["gitlab_project", "strategy"]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    errors.clear();
    setBusy(true);
    try {
      const created = await auth.api.post<Project>("/api/projects", { gitlab_project: reference.trim(), strategy });
      toast.show(`${created.path_with_namespace} is onboarded.`, "success");
      setReference("");
      reload();
      choose(created.id);
    } catch (failure) {
      errors.take(failure, "The project could not be onboarded.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Onboard a project">
      <form aria-label="Onboard a project" onSubmit={(event) => void submit(event)} className="flex flex-wrap items-end gap-3" noValidate>
        {errors.form ? <p role="alert" className="w-full text-sm text-red-700 dark:text-red-400">{errors.form}</p> : null}
        <div className="min-w-64 flex-1">
          <Field label="GitLab project" id={`${id}-ref`} hint="Its numeric id or full path, like group/project." error={errors.field("gitlab_project")}>
            <input id={`${id}-ref`} required value={reference} onChange={(e) => setReference(e.target.value)} className={INPUT} {...describedBy(`${id}-ref`, true, errors.field("gitlab_project"))} />
          </Field>
        </div>
        <Field label="Strategy" id={`${id}-strategy`} error={errors.field("strategy")}>
          <select id={`${id}-strategy`} value={strategy} onChange={(e) => setStrategy(e.target.value)} className={INPUT}>
            {STRATEGIES.map((name) => (
              <option key={name} value={name}>{name}</option>
            ))}
          </select>
        </Field>
        <Button type="submit" variant="primary" disabled={busy || !reference.trim()}>
          {busy ? "Onboarding…" : "Onboard"}
        </Button>
      </form>
    </Card>
  );
}

/** What the batch size does under each strategy (it also caps raised priorities under all). */
const BATCH_SIZE_HINTS: Record<string, string> = {
  single: "With the single strategy no batches are built: it only caps how many merge requests may carry a raised priority at once.",
  batch: "How many merge requests a batch tests together (and how many may carry a raised priority at once).",
  train: "How many merge requests each car of the train holds (and how many may carry a raised priority at once).",
};

function batchSizeHint(strategy: string): string {
  return BATCH_SIZE_HINTS[strategy] ?? "How many merge requests are tested together.";
}

const CONFIG_FIELDS = ["target_branches", "strategy", "batch_size", "train_depth", "parallel_tests", "pipeline_retries", "skip_ci_on_landing", "polling_interval_seconds", "labels", "webhook_enabled", "max_rejections", "landing", "ai_debug_enabled", "explain_on_rejection"] as const;

type Draft = Omit<ProjectConfig, "project_id" | "updated_at" | "updated_by" | "target_branches"> & { target_branches: string };

/** The chosen project's settings, read from the server, then edited. */
function ConfigForm({ project }: { project: Project }) {
  const { auth } = useSession();
  const config = useQuery(() => auth.api.get<ProjectConfig>(`/api/projects/${project.id}/config`), [auth, project.id], "The settings could not be loaded.");
  return (
    <LoadState data={config.data} error={config.error} loading={`Loading the settings of ${project.path_with_namespace}…`}>
      {(loaded) => <ConfigEditor project={project} config={loaded} onSaved={config.setData} />}
    </LoadState>
  );
}

function ConfigEditor({ project, config, onSaved }: { project: Project; config: ProjectConfig; onSaved: (saved: ProjectConfig) => void }) {
  const { auth } = useSession();
  const toast = useToast();
  const id = useId();
  const [draft, setDraft] = useState<Draft>(() => ({ ...config, target_branches: config.target_branches.join(", ") }));
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(CONFIG_FIELDS);

  function set<K extends keyof Draft>(key: K, value: Draft[K]) {
    setDraft((current) => ({ ...current, [key]: value }));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    errors.clear();
    setBusy(true);
    const body = {
      target_branches: draft.target_branches.split(/[\s,]+/).filter(Boolean),
      strategy: draft.strategy,
      batch_size: Number(draft.batch_size),
      train_depth: Number(draft.train_depth),
      parallel_tests: Number(draft.parallel_tests),
      pipeline_retries: Number(draft.pipeline_retries),
      polling_interval_seconds: Number(draft.polling_interval_seconds),
      max_rejections: Number(draft.max_rejections),
      landing: draft.landing,
      webhook_enabled: draft.webhook_enabled,
      skip_ci_on_landing: draft.skip_ci_on_landing,
      ai_debug_enabled: draft.ai_debug_enabled,
      explain_on_rejection: draft.explain_on_rejection,
      labels: draft.labels,
    };
    try {
      const saved = await auth.api.put<ProjectConfig>(`/api/projects/${project.id}/config`, body);
      onSaved(saved);
      toast.show(`Settings of ${project.path_with_namespace} saved.`, "success");
    } catch (failure) {
      errors.take(failure, "The settings could not be saved.");
    } finally {
      setBusy(false);
    }
  }

  const number = (key: "batch_size" | "train_depth" | "parallel_tests" | "pipeline_retries" | "polling_interval_seconds" | "max_rejections", label: string, hint: string) => (
    <Field label={label} id={`${id}-${key}`} hint={hint} error={errors.field(key)}>
      <input id={`${id}-${key}`} type="number" value={draft[key]} onChange={(e) => set(key, e.target.value === "" ? ("" as unknown as number) : Number(e.target.value))} className={INPUT} {...describedBy(`${id}-${key}`, true, errors.field(key))} />
    </Field>
  );

  return (
    <Card title={`Settings of ${project.path_with_namespace}`}>
      <form aria-label="Project settings" onSubmit={(event) => void submit(event)} className="grid gap-4 md:grid-cols-2" noValidate>
        {errors.form ? <p role="alert" className="text-sm text-red-700 md:col-span-2 dark:text-red-400">{errors.form}</p> : null}
        <Field label="Target branches" id={`${id}-branches`} hint="Separated by commas; each has its own queue." error={errors.field("target_branches")}>
          <input id={`${id}-branches`} value={draft.target_branches} onChange={(e) => set("target_branches", e.target.value)} className={INPUT} {...describedBy(`${id}-branches`, true, errors.field("target_branches"))} />
        </Field>
        <Field label="Strategy" id={`${id}-strategy`} error={errors.field("strategy")}>
          <select id={`${id}-strategy`} value={draft.strategy} onChange={(e) => set("strategy", e.target.value)} className={INPUT} {...describedBy(`${id}-strategy`, false, errors.field("strategy"))}>
            {STRATEGIES.map((name) => (
              <option key={name} value={name}>{name}</option>
            ))}
          </select>
        </Field>
        {number("batch_size", "Batch size", batchSizeHint(draft.strategy))}
        {draft.strategy === "batch" ? number("parallel_tests", "Parallel tests (failed batch)", "1 to 20 pipelines side by side to find what failed a batch; 1 tests one at a time.") : null}
        {number("pipeline_retries", "Pipeline retries", "0 to 3: a failed pipeline runs again before anyone is struck (a flake is possible).")}
        {number("max_rejections", "Strikes before rejection", "1 to 20.")}
        {number("polling_interval_seconds", "Polling interval (seconds)", "10 to 86400; the webhook makes changes faster.")}
        {draft.strategy === "train" ? number("train_depth", "Train depth", "1 to 10: how many cars (batches, each tested on top of the ones ahead) run at once at most; it starts there, grows after a landing and shrinks after a failure; cars and the probes that find a failed car's culprit never run more pipelines than this.") : null}
        <Field label="Landing" id={`${id}-landing`} error={errors.field("landing")}>
          <select id={`${id}-landing`} value={draft.landing} onChange={(e) => set("landing", e.target.value)} className={INPUT}>
            {LANDINGS.map((item) => (
              <option key={item.value} value={item.value}>{item.label}</option>
            ))}
          </select>
        </Field>
        <div className="flex flex-col gap-2 text-sm">
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={draft.webhook_enabled} onChange={(e) => set("webhook_enabled", e.target.checked)} /> Webhook enabled
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={draft.skip_ci_on_landing} onChange={(e) => set("skip_ci_on_landing", e.target.checked)} /> No target pipeline after our landings (their tree passed CI; keep it off if the target's pipeline deploys)
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={draft.ai_debug_enabled} onChange={(e) => set("ai_debug_enabled", e.target.checked)} /> AI summary in "Explain" (sends what the AI settings allow)
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={draft.explain_on_rejection} onChange={(e) => set("explain_on_rejection", e.target.checked)} /> Say what to do next in the rejection comment
          </label>
        </div>
        <fieldset className="grid gap-3 md:col-span-2 md:grid-cols-2" aria-describedby={errors.field("labels") ? `${id}-labels-error` : undefined}>
          <legend className="mb-1 text-sm font-medium">GitLab labels</legend>
          {LABEL_KEYS.map((item) => (
            <Field key={item.key} label={item.label} id={`${id}-label-${item.key}`}>
              <input id={`${id}-label-${item.key}`} value={draft.labels[item.key] ?? ""} onChange={(e) => set("labels", { ...draft.labels, [item.key]: e.target.value })} className={INPUT} />
            </Field>
          ))}
          {errors.field("labels") ? <p id={`${id}-labels-error`} className="text-xs text-red-700 md:col-span-2 dark:text-red-400">{errors.field("labels")}</p> : null}
        </fieldset>
        <div className="flex items-center gap-3 md:col-span-2">
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? "Saving…" : "Save settings"}
          </Button>
          <span className="text-xs text-slate-500">
            Last changed {formatTime(config.updated_at)}
            {config.updated_by ? ` by ${config.updated_by}` : ""}.
          </span>
        </div>
      </form>
    </Card>
  );
}
