// Reads the V8 CPU profiles that `--profile` makes the gateway and the worker write, and tells
// which packages their CPU time went to.
import fs from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /**
   * Self time per package, largest first; time in Node's own code (sockets, streams, timers) is
   * charged to the nearest caller from a package, since that caller asked for it.
   */
  byPackage: { name: string; ms: number; pct: number }[];
  /** The functions with the most self time. */
  topFunctions: { name: string; ms: number }[];
}

export async function summariseProfiles(dir: string): Promise<ProfileSummary[]> {
  const files = (await fs.readdir(dir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile'));
  const summaries: ProfileSummary[] = [];
  for (const file of files) {
    const profile = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    summaries.push(summarise(file, profile));
  }

  return summaries;
}

function summarise(file: string, profile: CpuProfile): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) {
      parents.set(child, node.id);
    }
  }
  const owner = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const pkg = packageOf(nodes.get(at)!.callFrame);
      if (pkg !== 'node' && pkg !== 'native') {
        return pkg;
      }
    }
    return 'node';
  };
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') {
      return;
    }
    total += ms;
    const pkg = owner(id);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const fn = `${frame.functionName || '(anonymous)'} ${pkg}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  });
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n);

  return {
    file,
    totalMs: Math.round(total),
    byPackage: top(byPackage, 12).map(([name, ms]) => ({
      name,
      ms: Math.round(ms),
      pct: Math.round((ms / Math.max(1, total)) * 1000) / 10,
    })),
    topFunctions: top(byFunction, 12).map(([name, ms]) => ({ name, ms: Math.round(ms) })),
  };
}

function packageOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) {
    return functionName.startsWith('(') ? functionName : 'native';
  }

  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pnpm) {
    return pnpm[1]!;
  }
  const local = /\/(apps|packages)\/([^/]+)\//.exec(url);
  if (local) {
    return `${local[1]}/${local[2]}`;
  }

  if (url.startsWith('wasm://')) {
    return 'wasm (Prisma query compiler)';
  }

  return url.startsWith('node:') ? 'node' : path.basename(url);
}
