/**
 * npm run bench:copy — ferry copy and ferry sync against skopeo and two curl floors,
 * between loopback registries (Debian docker-registry, plain HTTP on 127.0.0.1), fresh
 * destination storage for every timed run.
 *
 * Image: the bench:push one, 4 layers of 64 MB incompressible data plus 3 small ones,
 * pushed once into a source registry. Each round runs, in an order that rotates from
 * round to round (so no tool always goes first after the registries start):
 *  - floor: plain curl, per blob `curl GET | curl PUT` (4 blobs in parallel), then the manifest;
 *  - hashing floor: the same with the bytes also piped through sha256sum in flight and the
 *    sum compared with the digest, which is what ferry's in-flight check costs at best;
 *  - ferry copy to one destination, and skopeo copy docker:// docker://;
 *  - three destinations: the floor with one GET teed into three PUTs, ferry copy with
 *    three --to, and three skopeo copies in parallel.
 * Every tool runs with the same minimal environment, as a pipeline pod would: the pusher image's
 * ENV (the Dockerfile's; glibc's allocator tunables among them), PATH and a HOME of its own; no
 * inherited NODE_OPTIONS or NODE_EXTRA_CA_CERTS.
 * Also: ferry's CPU time and peak RSS (/usr/bin/time), a no-op ferry sync of a
 * repository with 50 tags (after one backfill run), and what each tool takes to start
 * (`copy --help`: the process and the copy command's code, no network), the part of a copy a
 * Node program pays and a Go one barely does.
 * Options: --runs N (default 3).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mapLimit } from '../lib/common/concurrency';
import { storeImage } from '../test/push/copy-support';
import { kanikoTar } from '../test/push/fixtures';
import { startRegistry, type TestRegistry } from '../test/push/registry-server';
import { imageEnv } from '../test/support/dockerfile';
import { ferry, fmt, imageMb, makeBenchImage, prepare, run, runsOption, type Timed, timed, withRegistries } from './harness';
import { median, verdict } from './stats';

const TARGETS = { floorRatio: 1.15, skopeoRatio: 0.9, fanoutRatio: 1.5, rssMb: 150, noopSyncSeconds: 2 };
const SYNC_TAGS = 50;
const MANIFEST_TYPES = 'application/vnd.docker.distribution.manifest.v2+json';

const insecure = (...registries: TestRegistry[]) => registries.flatMap((r) => ['--insecure-registry', r.host]);

/** The one environment every tool gets: the pusher image's (its ENV lines: the allocator's tunables), a PATH and a HOME. */
function toolEnv(home: string): NodeJS.ProcessEnv {
  return { ...imageEnv(), PATH: process.env.PATH, HOME: home };
}

function ferryCopy(src: TestRegistry, dests: TestRegistry[], home: string): Promise<Timed> {
  return ferry('copy', [`${src.host}/bench/app:v1`, ...dests.flatMap((d) => ['--to', `${d.host}/bench/app:v1`]), ...insecure(src, ...dests)], toolEnv(home));
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
    toolEnv(home),
  );
}

async function parallelSkopeo(src: TestRegistry, dests: TestRegistry[], home: string): Promise<Timed> {
  const started = performance.now();
  await Promise.all(dests.map((d) => skopeoCopy(src, d, home)));
  return { seconds: (performance.now() - started) / 1000 };
}

/**
 * One blob with nothing but curl: an upload session at every destination, then one GET
 * teed into one PUT per destination (and, with hash=1, into sha256sum, whose sum must be
 * the digest). Arguments: source base URL, digest, hash, then base URL and host per destination.
 */
const CURL_BLOB = `set -euo pipefail
src=$1 digest=$2 hash=$3; shift 3
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
locs=()
while [ $# -gt 0 ]; do
  loc=$(curl -sf -X POST -o /dev/null -w "%header{location}" "$1/blobs/uploads/")
  case "$loc" in http*) ;; *) loc="http://$2$loc";; esac
  case "$loc" in *[?]*) loc="$loc&digest=$digest";; *) loc="$loc?digest=$digest";; esac
  locs+=("$loc"); shift 2
done
taps=(); pids=()
for ((i = 1; i < \${#locs[@]}; i++)); do
  mkfifo "$dir/put$i"; taps+=("$dir/put$i")
  curl -sf -X PUT -H "content-type: application/octet-stream" -T - -o /dev/null "\${locs[$i]}" < "$dir/put$i" & pids+=($!)
done
if [ "$hash" = 1 ]; then
  mkfifo "$dir/hash"; taps+=("$dir/hash")
  (sha256sum < "$dir/hash" | cut -d" " -f1 > "$dir/sum") & pids+=($!)
fi
curl -sf "$src/blobs/$digest" | tee "\${taps[@]}" | curl -sf -X PUT -H "content-type: application/octet-stream" -T - -o /dev/null "\${locs[0]}"
for p in "\${pids[@]}"; do wait "$p"; done
[ "$hash" != 1 ] || [ "sha256:$(cat "$dir/sum")" = "$digest" ]`;

/** The floor: every blob through curl (4 at once, like ferry's --jobs), then the manifest the same way. */
async function curlFloor(src: TestRegistry, dests: TestRegistry[], blobs: readonly string[], hash = false): Promise<Timed> {
  const from = `http://${src.host}/v2/bench/app`;
  const to = dests.flatMap((d) => [`http://${d.host}/v2/bench/app`, d.host]);
  const started = performance.now();
  await mapLimit(blobs, 4, async (digest) => {
    const { code, stderr } = await run('bash', ['-c', CURL_BLOB, 'curl-floor', from, digest, hash ? '1' : '0', ...to]);
    if (code !== 0) throw new Error(`curl copy of ${digest} failed: ${stderr}`);
  });
  for (const d of dests) {
    const manifest = await run('bash', [
      '-c',
      `curl -sf -H "accept: ${MANIFEST_TYPES}" "$1/manifests/v1" | curl -sf -X PUT -H "content-type: ${MANIFEST_TYPES}" --data-binary @- -o /dev/null "$2/manifests/v1"`,
      'curl-floor',
      from,
      `http://${d.host}/v2/bench/app`,
    ]);
    if (manifest.code !== 0) throw new Error(`curl manifest copy failed: ${manifest.stderr}`);
  }
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

    const t = {
      curl: [] as number[],
      hashed: [] as number[],
      ferry: [] as number[],
      skopeo: [] as number[],
      curl3: [] as number[],
      ferry3: [] as number[],
      skopeo3: [] as number[],
      noop: [] as number[],
      ferryStart: [] as number[],
      skopeoStart: [] as number[],
    };
    const cpu: number[] = [];
    let rssKb = 0;
    const rss = (x: Timed) => {
      rssKb = Math.max(rssKb, x.rssKb ?? 0);
      return x.seconds;
    };
    const measures: [keyof typeof t, number, (d: TestRegistry[]) => Promise<number>][] = [
      ['curl', 1, async (d) => (await curlFloor(src, d, blobs)).seconds],
      ['hashed', 1, async (d) => (await curlFloor(src, d, blobs, true)).seconds],
      [
        'ferry',
        1,
        async (d) => {
          const x = await ferryCopy(src, d, home);
          cpu.push(x.cpuSeconds ?? Number.NaN);
          return rss(x);
        },
      ],
      ['skopeo', 1, async ([d]) => (await skopeoCopy(src, d, home)).seconds],
      ['curl3', 3, async (d) => (await curlFloor(src, d, blobs)).seconds],
      ['ferry3', 3, async (d) => rss(await ferryCopy(src, d, home))],
      ['skopeo3', 3, async (d) => (await parallelSkopeo(src, d, home)).seconds],
    ];
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`round ${i + 1}/${runs}\n`);
      // What each tool costs before it moves a byte: its start and the copy command's code, no network.
      t.ferryStart.push((await ferry('copy', ['--help'], toolEnv(home))).seconds);
      t.skopeoStart.push((await timed('skopeo', ['copy', '--help'], toolEnv(home))).seconds);
      for (let k = 0; k < measures.length; k++) {
        const [name, count, measure] = measures[(i + k) % measures.length];
        t[name].push(await withRegistries(count, measure));
      }
    }

    process.stderr.write(`storing ${SYNC_TAGS} small images for the no-op sync ...\n`);
    for (let i = 0; i < SYNC_TAGS; i++) await storeImage(src.host, 'bench/many', `t${String(i).padStart(2, '0')}`, `image ${i}`, 1024);
    const syncArgs = (d: TestRegistry) => [`${src.host}/bench/many`, '--to', `${d.host}/bench/many`, ...insecure(src, d)];
    await withRegistries(1, async ([d]) => {
      rss(await ferry('sync', syncArgs(d), toolEnv(home)));
      for (let i = 0; i < runs; i++) t.noop.push(rss(await ferry('sync', syncArgs(d), toolEnv(home))));
    });

    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof t, number>;
    const rssMb = rssKb / 1024;
    const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    const lines = [
      `image: ${totalMb.toFixed(0)} MB in ${image.layers.length + 1} blobs; ${runs} rounds, fresh destination storage each; medians`,
      `(${os.cpus().length} cores, load average at the start ${loadAtStart} and now ${os.loadavg()[0].toFixed(1)}: other work on the machine slows single-process tools most):`,
      `  curl GET|PUT floor          ${fmt(m.curl)}   (${(totalMb / m.curl).toFixed(0)} MB/s)   runs: ${runsOf(t.curl)}`,
      `  floor + sha256 in flight    ${fmt(m.hashed)}   ${x(m.hashed, m.curl)} floor   runs: ${runsOf(t.hashed)}`,
      `  ferry copy                  ${fmt(m.ferry)}   ${x(m.ferry, m.curl)} floor, ${x(m.ferry, m.hashed)} hashing floor, ${x(m.ferry, m.skopeo)} skopeo   runs: ${runsOf(t.ferry)}`,
      `  skopeo copy                 ${fmt(m.skopeo)}   ${x(m.skopeo, m.curl)} floor   runs: ${runsOf(t.skopeo)}`,
      `  curl floor, 3 destinations  ${fmt(m.curl3)}   runs: ${runsOf(t.curl3)}`,
      `  ferry copy, 3 destinations  ${fmt(m.ferry3)}   ${x(m.ferry3, m.curl3)} 3-destination floor, ${x(m.ferry3, m.skopeo3)} 3 skopeos, ${x(m.ferry3, m.ferry)} one destination   runs: ${runsOf(t.ferry3)}`,
      `  3 parallel skopeo copies    ${fmt(m.skopeo3)}   runs: ${runsOf(t.skopeo3)}`,
      `  no-op sync, ${SYNC_TAGS} tags        ${fmt(m.noop)}   runs: ${runsOf(t.noop)}`,
      `  start, no network: ferry copy --help ${fmt(m.ferryStart)} (${((100 * m.ferryStart) / m.ferry).toFixed(0)} % of its copy), skopeo copy --help ${fmt(m.skopeoStart)}`,
      `  ferry copy CPU (user+sys)   ${fmt(median(cpu))}   runs: ${runsOf(cpu)}`,
      `  ferry peak RSS              ${rssMb.toFixed(0)} MB`,
      'targets:',
      `  copy ≤ ${TARGETS.floorRatio}× floor: ${verdict(m.ferry <= TARGETS.floorRatio * m.curl)}`,
      `  copy ≤ ${TARGETS.skopeoRatio}× skopeo: ${verdict(m.ferry <= TARGETS.skopeoRatio * m.skopeo)}`,
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
