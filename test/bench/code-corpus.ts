/**
 * "Normal code and prose" for measuring false positives: source and docs of the installed packages
 * (TypeScript, JavaScript, Markdown, YAML, shell, Python of a few hundred npm packages), read from
 * node_modules in a fixed order, a bounded share per package so no one package dominates. What it
 * holds depends on the installed versions; the bench reports its size with the counts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXTENSIONS = new Set(['.md', '.ts', '.js', '.mjs', '.cjs', '.mts', '.cts', '.yml', '.yaml', '.py', '.sh']);
const MAX_FILE = 200_000;

/** One file of the corpus. */
export interface CorpusFile {
  /** Path under node_modules. */
  readonly file: string;
  readonly text: string;
}

function packages(root: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(root).sort()) {
    if (d.startsWith('.')) continue;
    if (d.startsWith('@')) for (const s of fs.readdirSync(path.join(root, d)).sort()) out.push(path.join(root, d, s));
    else out.push(path.join(root, d));
  }
  return out;
}

/** Up to `maxBytes` characters of code and docs, at most `perPackage` from each package. */
export function codeCorpus(maxBytes: number, perPackage: number): { files: CorpusFile[]; bytes: number } {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../node_modules');
  const files: CorpusFile[] = [];
  let total = 0;
  for (const pkg of packages(root)) {
    let used = 0;
    const walk = (dir: string): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
      } catch {
        return;
      }
      for (const e of entries) {
        if (used >= perPackage || total >= maxBytes) return;
        const f = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (e.name !== 'node_modules') walk(f);
          continue;
        }
        if (!e.isFile() || !EXTENSIONS.has(path.extname(e.name)) || e.name.includes('.min.')) continue;
        const size = fs.statSync(f).size;
        if (size === 0 || size > MAX_FILE) continue;
        const text = fs.readFileSync(f, 'utf8');
        files.push({ file: path.relative(root, f), text });
        used += text.length;
        total += text.length;
      }
    };
    walk(pkg);
    if (total >= maxBytes) break;
  }
  return { files, bytes: total };
}
