/**
 * The project's trains (the train strategy): cars head first as cards, the probes finding out
 * which members of a failed car broke it, the groups waiting, and the adaptive depth. Shown only
 * when the project runs a train; read again after the queue's live events.
 */
import { useEffect, useId, useRef } from "react";
import { useSession } from "../auth/AuthContext";
import { LoadState } from "../components/LoadState";
import { useQuery } from "../components/useQuery";
import { useLiveEvent } from "../live/LiveContext";
import { type Train, type TrainAttempt, type TrainCar, type TrainGroup, type TrainMember, type TrainPipeline, iidsOf, readTrains, retriesText, trainsShown } from "./train";

/** Quiet time after live events before the train is read again (a step sends several). */
export const TRAIN_RELOAD_MS = 500;

const BADGE: Record<string, string> = {
  success: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  landing: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  failed: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  canceled: "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
  aborted: "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
};
const BADGE_DEFAULT = "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300";
const LINK = "text-indigo-700 underline dark:text-indigo-300";

function Badge({ text }: { text: string }) {
  return <span className={`rounded px-1.5 py-0.5 text-xs ${BADGE[text] ?? BADGE_DEFAULT}`}>{text}</span>;
}

function Member({ member }: { member: TrainMember }) {
  const text = member.title ? `!${member.iid} ${member.title}` : `!${member.iid}`;
  return member.web_url ? (
    <a href={member.web_url} target="_blank" rel="noopener noreferrer" className={LINK}>
      {text}
    </a>
  ) : (
    <span>{text}</span>
  );
}

function Pipeline({ pipeline, of }: { pipeline: TrainPipeline | null; of: string }) {
  if (!pipeline) return <span className="text-slate-500 dark:text-slate-400">no pipeline yet</span>;
  const status = pipeline.status ?? "unknown";
  const name = `Pipeline #${pipeline.id}`;
  const retries = retriesText(pipeline.retries);
  return (
    <span className="flex flex-wrap items-center gap-1.5">
      {pipeline.web_url ? (
        <a href={pipeline.web_url} target="_blank" rel="noopener noreferrer" className={LINK} aria-label={`Pipeline of ${of}: ${status}`}>
          {name}
        </a>
      ) : (
        name
      )}
      <Badge text={status} />
      {retries ? <span className="text-amber-700 dark:text-amber-400">{retries}</span> : null}
    </span>
  );
}

function CarCard({ car }: { car: TrainCar }) {
  const name = car.position === 1 ? "Car 1 (head)" : `Car ${car.position}`;
  return (
    <li aria-label={name} className="flex w-60 flex-col gap-2 rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700">
      <div className="flex items-center justify-between gap-2 font-medium">
        {name}
        <Badge text={car.status} />
      </div>
      <ul aria-label={`Members of ${name.toLowerCase()}`} className="flex flex-col gap-0.5">
        {car.members.map((member) => (
          <li key={member.iid}>
            <Member member={member} />
          </li>
        ))}
      </ul>
      <Pipeline pipeline={car.pipeline} of={name.toLowerCase()} />
      <p className="text-xs text-slate-500 dark:text-slate-400">
        tests <code>{car.tested_sha ?? "—"}</code> on <code>{car.base_sha}</code>
      </p>
    </li>
  );
}

function Probe({ probe }: { probe: TrainAttempt }) {
  const of = `the probe of ${iidsOf(probe.members)}`;
  return (
    <li className="flex flex-col gap-1">
      <span>finding out: {iidsOf(probe.members)}</span>
      <Pipeline pipeline={probe.pipeline} of={of} />
      <span className="text-xs text-slate-500 dark:text-slate-400">
        on <code>{probe.base_sha}</code>
      </span>
    </li>
  );
}

function Groups({ title, groups }: { title: string; groups: TrainGroup[] }) {
  if (!groups.length) return null;
  return (
    <p>
      {title}: {groups.map((group) => iidsOf(group.members)).join(", ")}
    </p>
  );
}

function BranchTrain({ train }: { train: Train }) {
  const branch = train.target_branch;
  return (
    <section aria-label={`Train to ${branch}`} className="flex flex-col gap-3">
      <p className="text-sm text-slate-600 dark:text-slate-300">
        → {branch} · depth {train.depth} of {train.train_depth} cars · {train.cars.length} running
      </p>
      <div className="flex flex-wrap items-start gap-4">
        {train.cars.length ? (
          <ol aria-label={`Cars to ${branch}`} className="flex flex-wrap gap-3">
            {train.cars.map((car) => (
              <CarCard key={car.attempt_id} car={car} />
            ))}
          </ol>
        ) : (
          <p className="text-sm text-slate-500 dark:text-slate-400">No car is running: ready merge requests board the next one.</p>
        )}
        {train.probes.length ? (
          <aside aria-label={`Probes beside the train to ${branch}`} className="rounded-md border border-dashed border-slate-300 p-3 text-sm dark:border-slate-600">
            <ul className="flex flex-col gap-2">
              {train.probes.map((probe) => (
                <Probe key={probe.attempt_id} probe={probe} />
              ))}
            </ul>
          </aside>
        ) : null}
      </div>
      <div className="text-sm">
        <Groups title="Suspects waiting for a probe" groups={train.suspects} />
        <Groups title="Cleared, waiting for a car of their own" groups={train.cleared} />
      </div>
    </section>
  );
}

export interface TrainPanelProps {
  projectId: number;
  /** The target branch the page shows (null: all). */
  branch: string | null;
  /** Read again when it changes (the page's reloads: after MR events, reconnect, priority change). */
  refresh: number;
}

export function TrainPanel({ projectId, branch, refresh }: TrainPanelProps) {
  const { auth } = useSession();
  const titleId = useId();
  const query = useQuery(() => readTrains(auth.api, projectId), [auth, projectId, refresh], "The train could not be loaded.");
  const { reload } = query;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );
  // Cars and probes are batch operations: their events move the train. MR events reach it
  // through `refresh` (the page reads its list again once a burst of them is over).
  useLiveEvent("batch.updated", (event) => {
    if (event.project_id !== projectId) return;
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      reload();
    }, TRAIN_RELOAD_MS);
  });

  const trains = query.data ? trainsShown(query.data, branch) : [];
  if (!query.error && trains.length === 0) return null; // no train: no panel
  return (
    <section aria-labelledby={titleId} className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
      <h2 id={titleId} className="mb-3 text-base font-semibold">
        Train
      </h2>
      <LoadState data={query.data} error={query.error} onRetry={reload} loading="Loading the train…">
        {() => (
          <div className="flex flex-col gap-4">
            {trains.map((train) => (
              <BranchTrain key={train.target_branch} train={train} />
            ))}
          </div>
        )}
      </LoadState>
    </section>
  );
}
