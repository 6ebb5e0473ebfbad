/**
 * npm run bench:copy — ferry copy and ferry sync against skopeo and the curl floor, between
 * loopback registries (Debian docker-registry, plain HTTP on 127.0.0.1), fresh destination
 * storage for every timed run.
 *
 * Image: the bench:push one, 4 layers of 64 MB incompressible data plus 3 small ones,
 * pushed once into a source registry.
 *  - floor: plain curl, per blob `curl GET | curl PUT` (4 in parallel), then the manifest;
 *  - ferry copy one destination, and one source to 3 destinations;
 *  - skopeo copy docker:// docker://, once, and 3 in parallel for the 3 destinations;
 *  - ferry peak RSS from /usr/bin/time -f %M;
 *  - a no-op ferry sync of a repository with 50 tags (after one backfill run).
 * Options: --runs N (default 3).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mapLimit } from '../lib/common/concurrency';
import { storeImage } from '../test/push/copy-support';
import { kanikoTar } from '../test/push/fixtures';
import { startRegistry, type TestRegistry } from '../test/push/registry-server';
import { ferry, fmt, imageMb, makeBenchImage, prepare, run, runsOption, type Timed, timed, withRegistries } from './harness';
import { median, verdict } from './stats';

const TARGETS = { floorRatio: 1.25, fanoutRatio: 1.5, rssMb: 150, noopSyncSeconds: 2 };
const SYNC_TAGS = 50;
const MANIFEST_TYPES = 'application/vnd.docker.distribution.manifest.v2+json';

const insecure = (...registries: TestRegistry[]) => registries.flatMap((r) => ['--insecure-registry', r.host]);

function ferryCopy(src: TestRegistry, dests: TestRegistry[]): Promise<Timed> {
  return ferry('copy', [`${src.host}/bench/app:v1`, ...dests.flatMap((d) => ['--to', `${d.host}/bench/app:v1`]), ...insecure(src, ...dests)]);
}

function skopeoCopy(src: TestRegistry, dest: TestRegistry, home: string): Promise<Timed> {
  return timed(
    'skopeo',
    [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${src.host}/bench/app:v1`,
      `docker://${dest.host}/bench/app:v1`,
    ],
    { PATH: process.env.PATH, HOME: home },
  );
}

/** The floor: each blob piped from one curl into another, then the manifest the same way. */
async function curlFloor(src: TestRegistry, dest: TestRegistry, blobs: readonly string[]): Promise<Timed> {
  const from = `http://${src.host}/v2/bench/app`;
  const to = `http://${dest.host}/v2/bench/app`;
  const script =
    'loc=$(curl -sf -X POST -o /dev/null -w "%header{location}" "$2/blobs/uploads/") && case "$loc" in http*) ;; *) loc="http://$3$loc";; esac && ' +
    'case "$loc" in *\\?*) sep="&";; *) sep="?";; esac && curl -sf "$1/blobs/$4" | curl -sf -X PUT -H "content-type: application/octet-stream" -T - -o /dev/null "$loc${sep}digest=$4"';
  const started = performance.now();
  await mapLimit(blobs, 4, async (digest) => {
    const { code, stderr } = await run('bash', ['-c', script, 'curl-floor', from, to, dest.host, digest]);
    if (code !== 0) throw new Error(`curl copy of ${digest} failed: ${stderr}`);
  });
  const manifest = await run('bash', [
    '-c',
    `curl -sf -H "accept: ${MANIFEST_TYPES}" "$1/manifests/v1" | curl -sf -X PUT -H "content-type: ${MANIFEST_TYPES}" --data-binary @- -o /dev/null "$2/manifests/v1"`,
    'curl-floor',
    from,
    to,
  ]);
  if (manifest.code !== 0) throw new Error(`curl manifest copy failed: ${manifest.stderr}`);
  return { seconds: (performance.now() - started) / 1000 };
}

const runsOf = (xs: number[]) => xs.map(fmt).join(', ');

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runs = runsOption(argv);
  prepare();
  const loadAtStart = os.loadavg()[0].toFixed(1);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-copy-'));
  const src = await startRegistry();
  try {
    process.stderr.write('generating a 4×64 MB + 3 small-layer image and pushing it to the source registry ...\n');
    const image = await makeBenchImage(path.join(work, 'image'));
    const stored = await ferry('push', [kanikoTar(image), '--to', `${src.host}/bench/app:v1`, ...insecure(src)]);
    if (!stored) throw new Error('filling the source failed');
    fs.rmSync(path.join(work, 'image'), { recursive: true, force: true });
    const blobs = [image.configDigest, ...image.layers.map((l) => l.digest)];
    const totalMb = imageMb(image);
    const home = fs.mkdtempSync(path.join(work, 'home-'));

    const t = { curl: [] as number[], ferry: [] as number[], skopeo: [] as number[], ferry3: [] as number[], skopeo3: [] as number[], noop: [] as number[] };
    let rssKb = 0;
    const rss = (x: Timed) => {
      rssKb = Math.max(rssKb, x.rssKb ?? 0);
      return x.seconds;
    };
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`run ${i + 1}/${runs}\n`);
      t.curl.push((await withRegistries(1, ([d]) => curlFloor(src, d, blobs))).seconds);
      t.ferry.push(rss(await withRegistries(1, (d) => ferryCopy(src, d))));
      t.skopeo.push((await withRegistries(1, ([d]) => skopeoCopy(src, d, home))).seconds);
      t.ferry3.push(rss(await withRegistries(3, (d) => ferryCopy(src, d))));
      t.skopeo3.push(
        await withRegistries(3, async (ds) => {
          const started = performance.now();
          await Promise.all(ds.map((d) => skopeoCopy(src, d, home)));
          return (performance.now() - started) / 1000;
        }),
      );
    }

    process.stderr.write(`storing ${SYNC_TAGS} small images for the no-op sync ...\n`);
    for (let i = 0; i < SYNC_TAGS; i++) await storeImage(src.host, 'bench/many', `t${String(i).padStart(2, '0')}`, `image ${i}`, 1024);
    const syncArgs = (d: TestRegistry) => [`${src.host}/bench/many`, '--to', `${d.host}/bench/many`, ...insecure(src, d)];
    await withRegistries(1, async ([d]) => {
      rss(await ferry('sync', syncArgs(d)));
      for (let i = 0; i < runs; i++) t.noop.push(rss(await ferry('sync', syncArgs(d))));
    });

    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof t, number>;
    const rssMb = rssKb / 1024;
    const lines = [
      `image: ${totalMb.toFixed(0)} MB in ${image.layers.length + 1} blobs; ${runs} runs, fresh destination storage each; medians`,
      `(${os.cpus().length} cores, load average at the start ${loadAtStart} and now ${os.loadavg()[0].toFixed(1)}: other work on the machine slows single-process tools most):`,
      `  curl GET|PUT floor        ${fmt(m.curl)}   (${(totalMb / m.curl).toFixed(0)} MB/s)   runs: ${runsOf(t.curl)}`,
      `  ferry copy                ${fmt(m.ferry)}   ${(m.ferry / m.curl).toFixed(2)}× floor   runs: ${runsOf(t.ferry)}`,
      `  skopeo copy               ${fmt(m.skopeo)}   ${(m.skopeo / m.curl).toFixed(2)}× floor   runs: ${runsOf(t.skopeo)}`,
      `  ferry copy, 3 dests       ${fmt(m.ferry3)}   ${(m.ferry3 / m.ferry).toFixed(2)}× one dest   runs: ${runsOf(t.ferry3)}`,
      `  3 parallel skopeo copies  ${fmt(m.skopeo3)}   ${(m.skopeo3 / m.skopeo).toFixed(2)}× one copy   runs: ${runsOf(t.skopeo3)}`,
      `  no-op sync, ${SYNC_TAGS} tags      ${fmt(m.noop)}   runs: ${runsOf(t.noop)}`,
      `  ferry peak RSS            ${rssMb.toFixed(0)} MB`,
      'targets:',
      `  copy ≤ ${TARGETS.floorRatio}× floor: ${verdict(m.ferry <= TARGETS.floorRatio * m.curl)}`,
      `  copy faster than skopeo: ${verdict(m.ferry < m.skopeo)}`,
      `  3 destinations ≤ ${TARGETS.fanoutRatio}× one: ${verdict(m.ferry3 <= TARGETS.fanoutRatio * m.ferry)}`,
      `  3 destinations faster than 3 parallel skopeo copies: ${verdict(m.ferry3 < m.skopeo3)}`,
      `  peak RSS ≤ ${TARGETS.rssMb} MB: ${verdict(rssMb <= TARGETS.rssMb)}`,
      `  no-op sync of ${SYNC_TAGS} tags ≤ ${TARGETS.noopSyncSeconds} s: ${verdict(m.noop <= TARGETS.noopSyncSeconds)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await src.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:copy failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
