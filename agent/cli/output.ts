/** Printing command results: JSON for `--json`, plain text for people. */

/** Prints `data` as JSON when `json` is set, else `text`. */
export function output(json: boolean | undefined, data: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
}
