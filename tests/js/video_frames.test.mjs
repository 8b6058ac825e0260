// readVideoFrames / probeVideo (js/node/video_frames.mjs) on tiny synthetic videos made
// with ffmpeg's lavfi sources, and tools/make-test-videos.mjs on two Grocery Store Dataset
// photos (../shared/data/grocery or SHOPFRAME_GROCERY). Needs ffmpeg (Debian package
// ffmpeg); missing ffmpeg or data is a failure, not a skip.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { probeVideo, readVideoFrames } from '../../js/node/video_frames.mjs';
import { ShopframeError } from '../../js/errors.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GROCERY = process.env.SHOPFRAME_GROCERY ?? resolve(ROOT, '..', 'shared', 'data', 'grocery');
const dir = mkdtempSync(join(tmpdir(), 'shopframe-video-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const RED_BLUE = join(dir, 'red-blue.mp4');     // 3 s red, hard cut, 3 s blue; 160x90, 25 fps
const RED_GREEN = join(dir, 'red-green.mp4');   // 1.32 s red, hard cut, 1.2 s green: a cut off the 2 fps grid

function ffmpeg(...args) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.ok(!r.error, `ffmpeg not runnable (${r.error?.message}); Debian: apt-get install ffmpeg`);
  assert.equal(r.status, 0, r.stderr);
}

function twoColours(file, [c1, d1], [c2, d2]) {
  ffmpeg('-filter_complex', `color=${c1}:s=160x90:r=25:d=${d1}[a];color=${c2}:s=160x90:r=25:d=${d2}[b];[a][b]concat=n=2:v=1:a=0[v]`,
    '-map', '[v]', '-c:v', 'mpeg4', '-q:v', '2', file);
}

// probeVideo's results, passed to readVideoFrames to save ffprobe runs (ffmpeg and ffprobe
// take ~0.2-0.5 s each to start); the default path (probing) is used in the first tests.
const PROBED = new Map();
before(() => {
  twoColours(RED_BLUE, ['red', 3], ['blue', 3]);
  twoColours(RED_GREEN, ['red', 1.32], ['0x00ff00', 1.2]);
});

async function collect(path, options) {
  const frames = [];
  for await (const f of readVideoFrames(path, options)) frames.push(f);
  return frames;
}
const fast = (path, options = {}) => collect(path, { ...options, probe: PROBED.get(path) });

/** This process's children (pid, command, state), zombies included, from /proc. */
function children() {
  const kids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) === process.pid) kids.push({ pid: Number(d), comm: stat.slice(stat.indexOf('(') + 1, close), state });
  }
  return kids;
}

/** Mean RGBA of the frame. */
function mean(f) {
  const s = [0, 0, 0, 0];
  for (let i = 0; i < f.rgba.length; i += 4) for (let c = 0; c < 4; ++c) s[c] += f.rgba[i + c];
  return s.map((v) => v / (f.width * f.height));
}

test('probeVideo reads duration, size and frame rate', async () => {
  const info = await probeVideo(RED_BLUE);
  assert.ok(Math.abs(info.duration - 6) < 0.05, `duration ${info.duration}`);
  assert.equal(info.width, 160);
  assert.equal(info.height, 90);
  assert.equal(info.fps, 25);
  assert.equal(info.codec, 'mpeg4');
  assert.equal(info.rotation, 0);
  PROBED.set(RED_BLUE, info);
  PROBED.set(RED_GREEN, await probeVideo(RED_GREEN));
});

test('2 fps on a fixed grid, RGBA content, a cut sample at the hard cut', async () => {
  const frames = await collect(RED_BLUE);
  // 25 fps: the first frame at or after k/2 s is at k/2 s (k even) or k/2 + 0.02 s.
  assert.equal(frames.length, 12, frames.map((f) => f.t).join(' '));
  frames.forEach((f, k) => {
    assert.ok(f.t >= k / 2 - 1e-9 && f.t < k / 2 + 0.04 + 1e-9, `sample ${k} at t=${f.t}`);
    assert.equal(f.width, 160);
    assert.equal(f.height, 90);
    assert.ok(f.rgba instanceof Uint8Array);
    assert.equal(f.rgba.length, 160 * 90 * 4);
    const [r, g, b, a] = mean(f);
    assert.equal(a, 255);
    if (f.t < 3) assert.ok(r > 230 && g < 25 && b < 25, `t=${f.t}: red expected, mean ${[r, g, b]}`);
    else assert.ok(b > 230 && r < 25 && g < 25, `t=${f.t}: blue expected, mean ${[r, g, b]}`);
    // Every pixel, not only the mean (a tight buffer with no stride padding).
    for (let i = 0; i < f.rgba.length; i += 4) {
      if (f.t < 3 ? f.rgba[i] < 200 : f.rgba[i + 2] < 200) assert.fail(`t=${f.t}: pixel ${i / 4} is ${f.rgba.subarray(i, i + 4)}`);
    }
  });
  const cuts = frames.filter((f) => f.cut);
  assert.equal(cuts.length, 1, `cuts at ${cuts.map((f) => f.t)}`);
  assert.ok(Math.abs(cuts[0].t - 3) < 0.021, `cut at ${cuts[0].t}`);
  // Distinct buffers: a kept frame is not overwritten by the next one.
  assert.notEqual(frames[0].rgba.buffer, frames[1].rgba.buffer);
  assert.ok(mean(frames[0])[0] > 230);
});

test('a cut between grid points adds a sample; sceneCuts: false and fps change the sampling', async () => {
  const frames = await collect(RED_GREEN);
  const ts = frames.map((f) => +f.t.toFixed(3));
  assert.deepEqual(ts, [0, 0.52, 1, 1.32, 1.52, 2]);
  assert.deepEqual(frames.map((f) => f.cut), [false, false, false, true, false, false]);
  assert.ok(mean(frames[3])[1] > 230 && mean(frames[3])[0] < 25, 'the cut sample is the first green frame');
  assert.ok(mean(frames[2])[0] > 230, 'the sample before it is red');

  const plain = await fast(RED_GREEN, { sceneCuts: false });
  assert.deepEqual(plain.map((f) => +f.t.toFixed(3)), [0, 0.52, 1, 1.52, 2]);
  assert.ok(plain.every((f) => f.cut === false));

  const slow = await fast(RED_BLUE, { fps: 1, sceneCuts: false });
  assert.deepEqual(slow.map((f) => +f.t.toFixed(3)), [0, 1, 2, 3, 4, 5]);
});

test('maxWidth scales down, keeping the aspect, even sizes', async () => {
  const frames = await fast(RED_BLUE, { maxWidth: 100, sceneCuts: false, fps: 0.5 });
  assert.equal(frames.length, 3);
  for (const f of frames) {
    assert.equal(f.width, 100);
    assert.equal(f.height, 56);  // 90 * 100 / 160 = 56.25
    assert.equal(f.rgba.length, 100 * 56 * 4);
  }
});

test('stopping early kills ffmpeg and leaves no process behind', async () => {
  assert.deepEqual(children(), []);
  let n = 0;
  let during = [];
  // 25 fps: 150 frames of 57,600 bytes, far more than the pipes hold.
  for await (const f of readVideoFrames(RED_BLUE, { fps: 25, probe: PROBED.get(RED_BLUE) })) {
    assert.equal(f.width, 160);
    if (++n === 1) during = children();
    if (n === 3) break;
  }
  assert.equal(n, 3);
  assert.ok(during.some((c) => c.comm === 'ffmpeg'), `ffmpeg was running: ${JSON.stringify(during)}`);
  assert.deepEqual(children(), [], 'no ffmpeg (nor zombie) once the loop is left');

  // Same with an explicit return() on the iterator, and with a throw out of the loop.
  const it = readVideoFrames(RED_BLUE, { fps: 25, probe: PROBED.get(RED_BLUE) });
  assert.equal((await it.next()).done, false);
  await it.return();
  assert.deepEqual(children(), []);
  await assert.rejects(async () => {
    for await (const f of readVideoFrames(RED_BLUE, { fps: 25, probe: PROBED.get(RED_BLUE) })) if (f) throw new Error('consumer fails');
  }, /consumer fails/);
  assert.deepEqual(children(), []);
});

test('missing file, corrupt or truncated video, missing or failing ffmpeg: ShopframeError', async () => {
  const missing = join(dir, 'nope.mp4');
  await assert.rejects(collect(missing), (e) => e instanceof ShopframeError && e.code === 'not_found' && e.message.includes('nope.mp4'));
  await assert.rejects(probeVideo(missing), (e) => e instanceof ShopframeError && e.code === 'not_found');

  const garbage = join(dir, 'garbage.mp4');
  const bytes = new Uint8Array(20000);
  for (let i = 0; i < bytes.length; ++i) bytes[i] = (i * 2654435761) >>> 24;
  writeFileSync(garbage, bytes);
  await assert.rejects(collect(garbage), (e) => {
    assert.ok(e instanceof ShopframeError, String(e));
    assert.equal(e.code, 'corrupt');
    assert.match(e.message, /garbage\.mp4: not readable \(ffprobe exited with \d+\): \S/);
    return true;
  });

  // The lavfi mp4 has its index (moov) at the end: cut in half, it cannot be read.
  const truncated = join(dir, 'truncated.mp4');
  const whole = readFileSync(RED_BLUE);
  writeFileSync(truncated, whole.subarray(0, whole.length >> 1));
  await assert.rejects(collect(truncated), (e) => e instanceof ShopframeError && e.code === 'corrupt' && /moov|invalid/i.test(e.message));

  await assert.rejects(fast(RED_BLUE, { ffmpeg: join(dir, 'no-such-ffmpeg') }),
    (e) => e instanceof ShopframeError && e.code === 'unsupported' && /ffmpeg not found/.test(e.message));
  await assert.rejects(probeVideo(RED_BLUE, { ffprobe: join(dir, 'no-such-ffprobe') }),
    (e) => e instanceof ShopframeError && e.code === 'unsupported' && /ffprobe not found/.test(e.message));

  // An ffmpeg that fails: the exit status and its last stderr lines are in the message.
  const failing = join(dir, 'failing-ffmpeg');
  writeFileSync(failing, '#!/bin/sh\necho "first line" >&2\necho "Decoding failed: bad things" >&2\nexit 3\n');
  chmodSync(failing, 0o755);
  await assert.rejects(fast(RED_BLUE, { ffmpeg: failing }), (e) => {
    assert.ok(e instanceof ShopframeError);
    assert.equal(e.code, 'corrupt');
    assert.match(e.message, /ffmpeg exited with 3 after 0 frames: first line \| Decoding failed: bad things/);
    return true;
  });

  await assert.rejects(collect(RED_BLUE, { fps: 0 }), (e) => e.code === 'invalid_argument');
  await assert.rejects(collect(dir), (e) => e.code === 'invalid_argument' && /directory/.test(e.message));
  assert.deepEqual(children(), []);
});

test('make-test-videos: a 2-segment spec gives a video and its ground truth', async () => {
  assert.ok(existsSync(join(GROCERY, 'val')), `Grocery Store Dataset not found at ${GROCERY} (set SHOPFRAME_GROCERY)`);
  const out = join(dir, 'videos');
  const spec = join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify({
    videos: [{
      name: 'two', segments: [
        { id: 'Granny-Smith', photo: 1, duration: 2, motion: 'zoom-in' },
        { id: 'Arla-Standard-Milk', photo: 'val/Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_002.jpg', duration: 2, distractor: true },
      ],
    }],
  }));
  const r = spawnSync(process.execPath, [join(ROOT, 'tools', 'make-test-videos.mjs'), '--spec', spec, '--out', out, '--data', GROCERY], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const video = join(out, 'two.mp4');
  assert.ok(statSync(video).size > 1000);
  assert.deepEqual(readdirSync(out).sort(), ['two.json', 'two.mp4'], 'no temp files left');
  const truth = JSON.parse(readFileSync(join(out, 'two.json'), 'utf8'));
  assert.equal(truth.video, 'two.mp4');
  assert.equal(truth.duration, 4);
  assert.deepEqual([truth.width, truth.height, truth.fps, truth.codec], [640, 360, 25, 'h264']);
  assert.equal(truth.segments.length, 2);
  const [a, b] = truth.segments;
  assert.deepEqual([a.from, a.to, a.expected, a.id, a.category], [0, 2, 'Granny-Smith', 'Granny-Smith', 'Fruit/Apple']);
  assert.deepEqual([b.from, b.to, b.expected, b.id, b.category], [2, 4, null, 'Arla-Standard-Milk', 'Packages/Milk']);
  assert.equal(resolve(out, a.photo), resolve(GROCERY, 'val/Fruit/Apple/Granny-Smith/Granny-Smith_002.jpg'));
  assert.equal(resolve(out, b.photo), resolve(GROCERY, 'val/Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_002.jpg'));

  const info = await probeVideo(video);
  assert.deepEqual([info.width, info.height, info.fps, info.codec], [640, 360, 25, 'h264']);
  assert.ok(Math.abs(info.duration - 4) < 0.05, `duration ${info.duration}`);
  // The reader sees the hard cut between the two photos.
  const frames = await collect(video, { maxWidth: 320, probe: info });
  assert.deepEqual(frames.map((f) => +f.t.toFixed(2)), [0, 0.52, 1, 1.52, 2, 2.52, 3, 3.52]);
  assert.deepEqual(frames.map((f) => f.cut), [false, false, false, false, true, false, false, false]);
  assert.deepEqual([frames[0].width, frames[0].height], [320, 180]);
});
