import fs from 'node:fs';
import path from 'node:path';

/**
 * The README stays short and is the map of docs/: at most 200 lines, a link to every docs/*.md,
 * and every relative link in the README and docs/ leads to a file that exists (and to a heading
 * that exists, when it names one).
 */

const root = path.resolve(__dirname, '..', '..');
const readme = path.join(root, 'README.md');
const docs = fs
  .readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => path.join(root, 'docs', f));

/** The targets of the Markdown links of a file, outside code blocks and code spans. */
function links(file: string): string[] {
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/^```[\s\S]*?^```/gm, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
}

describe('README.md and docs/', () => {
  test('when the README is read, then it has at most 200 lines', () => {
    const lines = fs.readFileSync(readme, 'utf8').trimEnd().split('\n').length;
    expect(lines).toBeLessThanOrEqual(200);
  });

  test('when the README is read, then it links to every document in docs/', () => {
    const linked = new Set(links(readme).map((l) => path.resolve(root, l.split('#')[0])));
    expect(docs.filter((d) => !linked.has(d)).map((d) => path.relative(root, d))).toEqual([]);
  });

  test('when a relative link of the README or docs/ is followed, then its file (and heading) exists', () => {
    const broken: string[] = [];
    for (const file of [readme, ...docs]) {
      for (const link of links(file)) {
        if (/^[a-z]+:/i.test(link)) continue;
        const [target, anchor] = link.split('#');
        const resolved = target ? path.resolve(path.dirname(file), target) : file;
        const where = `${path.relative(root, file)} → ${link}`;
        if (!fs.existsSync(resolved)) broken.push(`${where}: no such file`);
        else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) broken.push(`${where}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });
});
