/** How times, durations and sizes read on the dashboard (pure). */

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h": a duration in seconds, short. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** How long ago `iso` was, from `now`. */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "—";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "—";
  return formatDuration((now - then) / 1000);
}

/** A timestamp in the reader's locale, to the minute. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** "512 B", "1.5 KiB", "3.2 MiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The sentence of any failure: the server's own, or a fallback. */
export function sentenceOf(error: unknown, fallback: string): string {
  if (error && typeof error === "object" && "detail" in error && typeof error.detail === "string") {
    return error.detail;
  }
  return fallback;
}

/**
 * Split the server's validation sentence into per-field messages.
 * "Invalid configuration: batch_size: at most 5; labels: unknown" → {batch_size: "at most 5", ...}.
 */
export function fieldErrors(detail: string): Record<string, string> {
  const colon = detail.indexOf(": ");
  const rest = colon >= 0 ? detail.slice(colon + 2) : detail;
  const found: Record<string, string> = {};
  for (const part of rest.replace(/\.$/, "").split("; ")) {
    const match = /^([A-Za-z_][\w.]*): (.+)$/.exec(part.trim());
    if (!match) continue;
    const field = (match[1] ?? "").split(".")[0] ?? "";
    const message = match[2] ?? "";
    found[field] = found[field] ? `${found[field]}; ${message}` : message;
  }
  return found;
}
