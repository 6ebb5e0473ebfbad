/**
 * npm run bench:push — ferry against the curl floor and skopeo, on one local registry
 * (Debian docker-registry, plain HTTP on 127.0.0.1) with fresh storage for every run.
 *
 * Image: 4 layers of 64 MB incompressible data plus 3 small ones, Kaniko format (and the
 * same image as a docker-save tar for skopeo, which only reads that).
 *  - ferry: the compiled CLI as a child process with the pusher image's ENV, peak RSS from /usr/bin/time -f %M;
 *  - skopeo copy docker-archive: (it recompresses every layer: it does more work, by design);
 *  - floor: the same blobs with plain curl, 4 in parallel, POST then PUT with the body,
 *    then the manifest PUT.
 * Then a re-push of the unchanged image, and a 1 GB image for the RSS-stays-flat check
 * (skip with --no-large). Options: --runs N (default 3).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mapLimit } from '../lib/common/concurrency';
import { dockerSaveTar, type Fixture, kanikoManifest, kanikoTar, makeFixture } from '../test/push/fixtures';
import type { TestRegistry } from '../test/push/registry-server';
import { imageEnv } from '../test/support/dockerfile';
import { ferry, fmt, imageMb, largeLayers, makeBenchImage, prepare, run, runsOption, type Timed, timed, withRegistries } from './harness';
import { median, verdict } from './stats';

const TARGETS = { floorRatio: 1.25, repushSeconds: 0.5, rssMb: 150 };

/** ferry as the pusher image runs it: with the Dockerfile's ENV (its allocator tunables). */
function ferryPush(image: string, registry: TestRegistry, repo: string): Promise<Timed> {
  return ferry('push', [image, '--to', `${registry.host}/${repo}:v1`, '--insecure-registry', registry.host], { ...process.env, ...imageEnv() });
}

function skopeoCopy(saveTar: string, registry: TestRegistry, home: string): Promise<Timed> {
  return timed(
    'skopeo',
    ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${saveTar}`, `docker://${registry.host}/bench/skopeo:v1`],
    { PATH: process.env.PATH, HOME: home },
  );
}

/** The floor: what pushing these bytes costs with nothing but curl. */
async function curlFloor(f: Fixture, manifestFile: string, registry: TestRegistry, dir: string): Promise<Timed> {
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, f.config);
  const blobs = [{ file: configFile, digest: f.configDigest }, ...f.layers.map((l) => ({ file: l.gz, digest: l.digest }))];
  const base = `http://${registry.host}/v2/bench/curl`;
  const script =
    'loc=$(curl -sf -X POST -o /dev/null -w "%header{location}" "$1/blobs/uploads/") && case "$loc" in http*) ;; *) loc="http://$2$loc";; esac && ' +
    'case "$loc" in *\\?*) sep="&";; *) sep="?";; esac && curl -sf -X PUT -H "content-type: application/octet-stream" --data-binary "@$3" -o /dev/null "$loc${sep}digest=$4"';
  const started = performance.now();
  await mapLimit(blobs, 4, async (b) => {
    const { code, stderr } = await run('bash', ['-c', script, 'curl-floor', base, registry.host, b.file, b.digest]);
    if (code !== 0) throw new Error(`curl upload of ${b.digest} failed: ${stderr}`);
  });
  const put = await run('curl', [
    '-sf',
    '-X',
    'PUT',
    '-H',
    'content-type: application/vnd.docker.distribution.manifest.v2+json',
    '--data-binary',
    `@${manifestFile}`,
    '-o',
    '/dev/null',
    `${base}/manifests/v1`,
  ]);
  if (put.code !== 0) throw new Error(`curl manifest PUT failed: ${put.stderr}`);
  return { seconds: (performance.now() - started) / 1000 };
}

const withRegistry = <T>(fn: (r: TestRegistry) => Promise<T>) => withRegistries(1, ([r]) => fn(r));

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runs = runsOption(argv);
  const large = !argv.includes('--no-large');
  prepare();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-'));
  try {
    process.stderr.write('generating a 4×64 MB + 3 small-layer image ...\n');
    const image = await makeBenchImage(path.join(work, 'image'));
    const kaniko = kanikoTar(image);
    const save = dockerSaveTar(image);
    const manifestFile = path.join(work, 'manifest.json');
    fs.writeFileSync(manifestFile, kanikoManifest(image));
    const totalMb = imageMb(image);
    const skopeoHome = fs.mkdtempSync(path.join(work, 'home-'));

    const times = { ferry: [] as number[], skopeo: [] as number[], curl: [] as number[], repush: [] as number[] };
    let rssKb = 0;
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`run ${i + 1}/${runs}\n`);
      times.curl.push((await withRegistry((r) => curlFloor(image, manifestFile, r, work))).seconds);
      await withRegistry(async (r) => {
        const first = await ferryPush(kaniko, r, 'bench/ferry');
        times.ferry.push(first.seconds);
        rssKb = Math.max(rssKb, first.rssKb ?? 0);
        const again = await ferryPush(kaniko, r, 'bench/ferry');
        times.repush.push(again.seconds);
        rssKb = Math.max(rssKb, again.rssKb ?? 0);
      });
      times.skopeo.push((await withRegistry((r) => skopeoCopy(save, r, skopeoHome))).seconds);
    }

    let largeRssKb: number | undefined;
    let largeSeconds: number | undefined;
    if (large) {
      fs.rmSync(path.join(work, 'image'), { recursive: true, force: true });
      process.stderr.write('generating a 1 GB (16×64 MB) image for the RSS check ...\n');
      const big = await makeFixture(path.join(work, 'large'), largeLayers(16));
      big.layers.forEach((l) => fs.rmSync(l.tar));
      const bigTar = kanikoTar(big);
      big.layers.forEach((l) => fs.rmSync(l.gz));
      const result = await withRegistry((r) => ferryPush(bigTar, r, 'bench/large'));
      largeRssKb = result.rssKb;
      largeSeconds = result.seconds;
    }

    const m = { ferry: median(times.ferry), skopeo: median(times.skopeo), curl: median(times.curl), repush: median(times.repush) };
    const rssMb = rssKb / 1024;
    const lines = [
      `image: ${totalMb.toFixed(0)} MB in ${image.layers.length} layers (Kaniko format); ${runs} runs, fresh registry storage each; medians:`,
      `  curl floor      ${fmt(m.curl)}   (${(totalMb / m.curl).toFixed(0)} MB/s)   runs: ${times.curl.map(fmt).join(', ')}`,
      `  ferry           ${fmt(m.ferry)}   ${(m.ferry / m.curl).toFixed(2)}× floor   runs: ${times.ferry.map(fmt).join(', ')}`,
      `  skopeo copy     ${fmt(m.skopeo)}   ${(m.skopeo / m.curl).toFixed(2)}× floor   runs: ${times.skopeo.map(fmt).join(', ')}`,
      `  ferry re-push   ${fmt(m.repush)}   runs: ${times.repush.map(fmt).join(', ')}`,
      `  ferry peak RSS  ${rssMb.toFixed(0)} MB`,
      ...(largeRssKb !== undefined ? [`  ferry 1 GB image: ${fmt(largeSeconds!)}, peak RSS ${(largeRssKb / 1024).toFixed(0)} MB`] : []),
      'targets:',
      `  ferry ≤ ${TARGETS.floorRatio}× floor: ${verdict(m.ferry <= TARGETS.floorRatio * m.curl)}`,
      `  ferry faster than skopeo: ${verdict(m.ferry < m.skopeo)}`,
      `  re-push ≤ ${TARGETS.repushSeconds} s: ${verdict(m.repush <= TARGETS.repushSeconds)}`,
      `  peak RSS ≤ ${TARGETS.rssMb} MB: ${verdict(Math.max(rssMb, (largeRssKb ?? 0) / 1024) <= TARGETS.rssMb)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:push failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
