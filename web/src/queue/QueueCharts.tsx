/** The last day of the queue in three small charts, plain SVG and CSS (no chart library). */
import { formatDuration } from "../components/format";
import { Card } from "../components/Page";
import type { QueueStats } from "./api";

function hourLabel(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${String(date.getUTCHours()).padStart(2, "0")}:00 UTC`;
}

export function MergedPerHour({ stats }: { stats: QueueStats }) {
  const hours = stats.merged_per_hour;
  const max = Math.max(1, ...hours.map((hour) => hour.merged));
  const total = hours.reduce((sum, hour) => sum + hour.merged, 0);
  const width = 12;
  const height = 80;
  return (
    <Card title="Merged per hour">
      {hours.length === 0 ? (
        <p className="text-sm text-slate-500">Nothing merged in the last {stats.window_hours} hours.</p>
      ) : (
        <>
          <svg
            role="img"
            aria-label={`${total} merged in the last ${stats.window_hours} hours; at most ${max} in one hour`}
            viewBox={`0 0 ${hours.length * width} ${height}`}
            preserveAspectRatio="none"
            className="h-24 w-full text-indigo-500"
          >
            {hours.map((hour, index) => {
              const barHeight = (hour.merged / max) * (height - 4);
              return (
                <rect key={hour.hour} x={index * width + 1} y={height - barHeight} width={width - 2} height={barHeight} fill="currentColor">
                  <title>{`${hourLabel(hour.hour)}: ${hour.merged} merged`}</title>
                </rect>
              );
            })}
          </svg>
          <p className="mt-1 text-xs text-slate-500">{total} merged in the last {stats.window_hours} hours.</p>
        </>
      )}
    </Card>
  );
}

export function TimeToMerge({ stats }: { stats: QueueStats }) {
  const { count, median_seconds: median, p95_seconds: p95 } = stats.time_to_merge;
  return (
    <Card title="Time to merge">
      {count === 0 ? (
        <p className="text-sm text-slate-500">No merges to measure in the last {stats.window_hours} hours.</p>
      ) : (
        <dl className="grid grid-cols-2 gap-2 text-sm">
          <div>
            <dt className="text-slate-500">Median</dt>
            <dd className="text-xl font-semibold">{median === null ? "—" : formatDuration(median)}</dd>
          </div>
          <div>
            <dt className="text-slate-500">95th percentile</dt>
            <dd className="text-xl font-semibold">{p95 === null ? "—" : formatDuration(p95)}</dd>
          </div>
          <div className="col-span-2 text-xs text-slate-500">over {count} merged merge requests</div>
        </dl>
      )}
    </Card>
  );
}

export function FailuresByReason({ stats }: { stats: QueueStats }) {
  const max = Math.max(1, ...stats.failures_by_reason.map((item) => item.count));
  return (
    <Card title="Failures by reason">
      {stats.failures_by_reason.length === 0 ? (
        <p className="text-sm text-slate-500">No strikes or rejections in the last {stats.window_hours} hours.</p>
      ) : (
        <ul className="flex flex-col gap-2 text-sm">
          {stats.failures_by_reason.map((item) => {
            const messages = item.messages ?? [];
            const details = messages.map((entry) => `${entry.message}${entry.count > 1 ? ` (×${entry.count})` : ""}`).join("\n");
            return (
              <li key={item.kind ?? item.reason} title={details || undefined} aria-description={details ? `Messages: ${details.replaceAll("\n", "; ")}` : undefined}>
                <div className="flex justify-between gap-2">
                  <span className={details ? "cursor-help underline decoration-dotted" : undefined}>{item.reason}</span>
                  <span className="tabular-nums">{item.count}</span>
                </div>
                <div aria-hidden="true" className="h-2 rounded bg-slate-100 dark:bg-slate-800">
                  <div className="h-2 rounded bg-red-500" style={{ width: `${(item.count / max) * 100}%` }} />
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}
