/**
 * Reading one thing from the API for a page: read again when what it depends on changes or on
 * `reload()`, keep what was shown until the new answer comes, and drop answers that come after
 * the page moved on. Its `data` and `error` are what `LoadState` shows.
 */
import { type DependencyList, type Dispatch, type SetStateAction, useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { sentenceOf } from "./format";

export interface Query<T> {
  /** The last answer; null until the first one. */
  data: T | null;
  /** The refusal's sentence (the server's, else `fallback`); cleared by the next answer. */
  error: string | null;
  /** The refusal's HTTP status (0: the server was not reached); null without a refusal. */
  errorStatus: number | null;
  /** Read again now. */
  reload: () => void;
  /** Change what is shown without reading again (a live event, an answer carrying the new list). */
  setData: Dispatch<SetStateAction<T | null>>;
}

/** `read` is called again whenever a value in `keys` changes (list what it reads there). */
export function useQuery<T>(read: () => Promise<T>, keys: DependencyList, fallback: string): Query<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [errorStatus, setErrorStatus] = useState<number | null>(null);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);

  useEffect(() => {
    let cancelled = false;
    read().then(
      (answer) => {
        if (cancelled) return;
        setData(answer);
        setError(null);
        setErrorStatus(null);
      },
      (failure: unknown) => {
        if (cancelled) return;
        setError(sentenceOf(failure, fallback));
        setErrorStatus(failure instanceof ApiError ? failure.status : 0);
      },
    );
    return () => {
      cancelled = true;
    };
    // `read` is a new function on every render; `keys` name what it reads.
  }, [...keys, generation]);

  return { data, error, errorStatus, reload, setData };
}
