/** Save a response the browser fetched with the bearer token as a file (exports, vault files). */

/** The file name from `Content-Disposition`, or `fallback`. */
export function fileNameOf(response: Response, fallback: string): string {
  const header = response.headers.get("Content-Disposition") ?? "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star?.[1]) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain?.[1] ?? fallback;
}

export async function saveResponse(response: Response, fallback: string): Promise<string> {
  const name = fileNameOf(response, fallback);
  const blob = await response.blob();
  if (typeof URL.createObjectURL !== "function") return name; // test DOMs have no downloads
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
