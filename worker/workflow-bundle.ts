import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from './worker';

/**
 * The prebuilt workflow bundle for production: `npm run build:workflows` writes it once, and a
 * worker that finds it skips bundling `workflows/` with webpack at every start (seconds of CPU and
 * a few hundred MB of transient memory per worker). A bundle older than any workflow source is
 * ignored, so a stale build can never run old workflow code.
 */

const projectRoot = path.resolve(__dirname, '..');
export const prebuiltBundlePath = path.join(projectRoot, 'dist', 'workflow-bundle.js');
/** What the bundle is built from (the workflow sandbox imports nothing else of the project), and the lockfile of its packages. */
const sourceDirs = ['workflows', 'domain'].map((dir) => path.join(projectRoot, dir));
const lockfile = path.join(projectRoot, 'package-lock.json');

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

export interface PrebuiltBundle {
  /** The bundle to give the worker, or undefined to bundle at start-up. */
  bundle?: { codePath: string };
  /** Why, for the start-up log. */
  reason: string;
}

/** The prebuilt bundle when it exists and is newer than every workflow source. */
export function prebuiltWorkflowBundle(file = prebuiltBundlePath): PrebuiltBundle {
  if (!fs.existsSync(file)) return { reason: `no prebuilt bundle at ${file}; bundling workflows at start-up` };
  const built = fs.statSync(file).mtimeMs;
  const newest = Math.max(...sourceDirs.map(newestSourceMtime), fs.existsSync(lockfile) ? fs.statSync(lockfile).mtimeMs : 0);
  if (newest > built) {
    return {
      reason: `${file} is older than the workflow sources or package-lock.json; bundling workflows at start-up (run npm run build:workflows)`,
    };
  }
  return { bundle: { codePath: file }, reason: `using the prebuilt workflow bundle ${file}` };
}

/** Bundle `workflows/` into `file`. */
export async function buildWorkflowBundle(file = prebuiltBundlePath): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Write then rename, so a worker starting meanwhile never reads half a bundle.
  fs.writeFileSync(`${file}.tmp`, code);
  fs.renameSync(`${file}.tmp`, file);
}

if (require.main === module) {
  const file = process.argv[2] ? path.resolve(process.argv[2]) : prebuiltBundlePath;
  buildWorkflowBundle(file).then(
    () => process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`),
    (err) => {
      process.stderr.write(`could not build the workflow bundle: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
