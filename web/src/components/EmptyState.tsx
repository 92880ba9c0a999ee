import type { ReactNode } from "react";

export interface EmptyStateProps {
  title: string;
  /** One sentence: why the page is empty right now. */
  summary: string;
  /** What the page will show once there is something to show. */
  upcoming: string[];
  children?: ReactNode;
}

/** A page with nothing to show yet, saying what will appear and when. */
export function EmptyState({ title, summary, upcoming, children }: EmptyStateProps) {
  return (
    <section aria-labelledby="page-title" className="mx-auto max-w-3xl">
      <h1 id="page-title" className="mb-4 text-2xl font-semibold">
        {title}
      </h1>
      {children}
      <div className="rounded-lg border border-dashed border-slate-300 bg-white p-8 dark:border-slate-700 dark:bg-slate-900">
        <p className="mb-3 font-medium">{summary}</p>
        <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">What will appear here:</p>
        <ul className="list-disc space-y-1 pl-5 text-sm text-slate-600 dark:text-slate-400">
          {upcoming.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      </div>
    </section>
  );
}
