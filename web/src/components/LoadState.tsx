/**
 * The ladder a page shows while it reads something from the API: the refusal (with what to do
 * next, or "Try again"), the loading status line, the notice when there is nothing to show,
 * then the data. Each page passes its own words; the ladder and its roles are the same everywhere.
 */
import type { ReactNode } from "react";
import { Button, Notice } from "./Page";

export interface LoadStateProps<T> {
  /** What was read; `null` or `undefined` while it is still being read. */
  data: T | null | undefined;
  /** The sentence of the last failure; it wins over older data (a failed reload shows). */
  error: string | null | undefined;
  /** The status line while reading, like "Loading users…". */
  loading: ReactNode;
  /** Read again: offered as "Try again" under the refusal. */
  onRetry?: () => void;
  /** What to do next, under the refusal, where there is no "Try again". */
  errorHint?: ReactNode;
  /** The sentence when there is nothing to show; without it, empty data is shown as data. */
  empty?: string;
  /** What to do to fill it, under the empty sentence. */
  emptyHint?: ReactNode;
  /** Whether the data counts as nothing to show (default: an empty list, or a page of no `items`). */
  isEmpty?: (data: T) => boolean;
  /** Show the empty sentence as a quiet line instead of a notice (inside a card or dialog). */
  quietEmpty?: boolean;
  children: (data: T) => ReactNode;
}

function isEmptyList(data: unknown): boolean {
  const list = data !== null && typeof data === "object" && "items" in data ? data.items : data;
  return Array.isArray(list) && list.length === 0;
}

export function LoadState<T>({
  data,
  error,
  loading,
  onRetry,
  errorHint,
  empty,
  emptyHint,
  isEmpty = isEmptyList,
  quietEmpty = false,
  children,
}: LoadStateProps<T>) {
  if (error) {
    return (
      <Notice tone="error" title={error}>
        {onRetry ? <Button onClick={onRetry}>Try again</Button> : errorHint}
      </Notice>
    );
  }
  if (data === null || data === undefined) return <p role="status">{loading}</p>;
  if (empty !== undefined && isEmpty(data)) {
    return quietEmpty ? <p className="text-sm text-slate-500 dark:text-slate-400">{empty}</p> : <Notice title={empty}>{emptyHint}</Notice>;
  }
  return <>{children(data)}</>;
}
