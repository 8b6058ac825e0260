// Video frames for node, decoded by an ffmpeg child process (Debian: apt-get install
// ffmpeg; ffmpeg >= 5.1 preferred, older ones work through -vsync).
//
//   for await (const { t, width, height, rgba, cut } of readVideoFrames('clip.mp4')) ...
//
// One ffmpeg run, no shell. Its filter graph on the first video stream:
//
//   select='isnan(prev_t)+gt(floor(t*FPS+1e-6),floor(prev_t*FPS+1e-6))+gt(scene,THRESH)',
//   metadata=mode=add:key=shopframe.sample:value=1,
//   metadata=mode=print:file='pipe\:3':direct=1,
//   scale=W:H:flags=area,setsar=1,format=rgba
//
// - select keeps the first decoded frame at or after every multiple of 1/FPS (a fixed
//   grid: 0, 0.5, 1.0, ... at 2 fps, whatever the source frame rate, and not shifted by
//   cuts) plus every frame whose scene-change score (select's `scene`, 0..1, computed
//   between consecutive decoded frames) is above THRESH.
// - the metadata filters write, for each kept frame, `frame:N pts:P pts_time:T`, then its
//   metadata (select's lavfi.scene_score) and the shopframe.sample marker that ends the
//   record, to file descriptor 3, unbuffered. A dedicated pipe: ffmpeg's log on stderr is
//   never parsed for data (stderr only keeps its last lines for error messages).
// - the frames leave as raw RGBA on stdout (-f rawvideo -pix_fmt rgba, -fps_mode
//   passthrough so that none is duplicated or dropped), all W x H, so the N-th frame on
//   stdout is the N-th record on fd 3 (the N in `frame:N` is checked).
// - t = P x the stream's time base (from ffprobe), checked against T (which has only 6
//   significant digits); timestamps are those ffmpeg reports, i.e. the stream's pts with
//   the file's start time taken off (so a video starts at ~0).
// - cut = the record's scene score is above THRESH (when sceneCuts).
//
// W x H: the displayed size (rotation and sample aspect ratio applied, from ffprobe) scaled
// down to W <= maxWidth, aspect kept, both even. Frames are streamed: ffmpeg blocks when
// the consumer does not take them, so at most a few frames are in memory. Stopping the
// iteration early (break, return(), a throw) kills ffmpeg and waits for it to exit.
import { spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { ShopframeError } from '../errors.mjs';

const STDERR_TAIL_LINES = 12;
const STDERR_TAIL_CHARS = 4000;
const INSTALL_HINT = 'install ffmpeg (Debian: apt-get install ffmpeg) or pass its path';

/** Keeps the last lines a child wrote to stderr (bounded), for error messages. */
class Tail {
  constructor() { this.text = ''; }
  push(chunk) {
    this.text += chunk;
    if (this.text.length > 4 * STDERR_TAIL_CHARS) this.text = this.text.slice(-2 * STDERR_TAIL_CHARS);
  }
  lines() {
    const lines = this.text.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean).slice(-STDERR_TAIL_LINES);
    const s = lines.join(' | ');
    return s.length > STDERR_TAIL_CHARS ? '...' + s.slice(-STDERR_TAIL_CHARS) : s;
  }
}

/** spawn() without a shell; `done` resolves once the process exited and its pipes closed. */
function start(bin, args, stdio) {
  const child = spawn(bin, args, { stdio, shell: false, windowsHide: true });
  const done = new Promise((resolveDone) => {
    let spawnError = null;
    child.once('error', (e) => {
      spawnError = e;
      // A process that never started emits no 'close' on every node version.
      if (child.pid === undefined) resolveDone({ code: null, signal: null, error: e });
    });
    child.once('close', (code, signal) => resolveDone({ code, signal, error: spawnError }));
  });
  return { child, done };
}

function spawnFailure(tool, bin, e) {
  if (e.code === 'ENOENT') return new ShopframeError('unsupported', `${tool} not found ('${bin}'): ${INSTALL_HINT}`, { cause: e });
  return new ShopframeError('unsupported', `cannot run ${tool} ('${bin}'): ${e.message}`, { cause: e });
}

// Always through the file protocol: a name with ':' or a leading '-' is never taken for a
// protocol or an option.
const fileUrl = (path) => `file:${resolve(path)}`;

async function checkInput(path) {
  if (typeof path !== 'string' || !path) throw new ShopframeError('invalid_argument', 'video path: expected a non-empty string');
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') throw new ShopframeError('not_found', `video ${path}: no such file`, { cause: e });
    throw new ShopframeError('io_error', `video ${path}: ${e.message}`, { cause: e });
  }
  if (s.isDirectory()) throw new ShopframeError('invalid_argument', `video ${path}: is a directory`);
  try {
    await (await open(path, 'r')).close();
  } catch (e) {
    throw new ShopframeError('io_error', `video ${path}: ${e.message}`, { cause: e });
  }
}

function rational(s) {
  if (typeof s !== 'string') return null;
  const m = /^(-?\d+)[/:](\d+)$/.exec(s.trim());
  if (!m) return null;
  const num = Number(m[1]), den = Number(m[2]);
  return num > 0 && den > 0 ? { num, den } : null;
}

const finiteOrNull = (v) => (v === undefined || v === null || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));

function rotationOf(stream) {
  for (const sd of stream.side_data_list ?? []) {
    if (sd && Number.isFinite(Number(sd.rotation))) return Number(sd.rotation);
  }
  return finiteOrNull(stream.tags?.rotate) ?? 0;
}

/**
 * Facts about the first video stream, from `ffprobe -print_format json`:
 *   { duration (s, or null when unknown), width, height (as decoded frames are shown:
 *     rotation applied), fps (average frame rate, or null), codec, rotation (degrees),
 *     sampleAspectRatio (pixel width / height, 1 for square pixels), timeBase "num/den",
 *     frames (count when the container says, else null) }
 * Errors (ShopframeError): not_found (no such file), corrupt (ffprobe cannot read it),
 * unsupported (no video stream, or no ffprobe binary).
 */
export async function probeVideo(path, { ffprobe = 'ffprobe' } = {}) {
  await checkInput(path);
  const args = ['-v', 'error', '-hide_banner', '-print_format', 'json', '-show_format', '-show_streams', '-select_streams', 'v:0', fileUrl(path)];
  const { child, done } = start(ffprobe, args, ['ignore', 'pipe', 'pipe']);
  let out = '';
  const tail = new Tail();
  child.stdout?.setEncoding('utf8').on('data', (s) => { if (out.length < 4e6) out += s; });
  child.stderr?.setEncoding('utf8').on('data', (s) => tail.push(s));
  const { code, signal, error } = await done;
  if (error) throw spawnFailure('ffprobe', ffprobe, error);
  if (code !== 0) {
    throw new ShopframeError('corrupt', `video ${path}: not readable (ffprobe exited with ${code ?? signal}): ${tail.lines() || 'no message'}`);
  }
  let info;
  try {
    info = JSON.parse(out);
  } catch (e) {
    throw new ShopframeError('corrupt', `video ${path}: ffprobe output is not JSON (${e.message})`);
  }
  const stream = info.streams?.[0];
  if (!stream || !(stream.width > 0) || !(stream.height > 0)) {
    throw new ShopframeError('unsupported', `video ${path}: no video stream (format ${info.format?.format_name ?? 'unknown'})`);
  }
  const rotation = rotationOf(stream);
  const quarter = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  const sar = rational(stream.sample_aspect_ratio);
  let sampleAspectRatio = sar ? sar.num / sar.den : 1;
  if (quarter) sampleAspectRatio = 1 / sampleAspectRatio;
  const rate = rational(stream.avg_frame_rate) ?? rational(stream.r_frame_rate);
  return {
    duration: finiteOrNull(info.format?.duration) ?? finiteOrNull(stream.duration),
    width: quarter ? stream.height : stream.width,
    height: quarter ? stream.width : stream.height,
    fps: rate ? rate.num / rate.den : null,
    codec: stream.codec_name ?? null,
    rotation,
    sampleAspectRatio,
    timeBase: stream.time_base ?? null,
    frames: finiteOrNull(stream.nb_frames),
  };
}

/** The output size: displayed size, width <= maxWidth, aspect kept, both even and >= 2. */
export function outputSize(info, maxWidth) {
  const dispW = info.width * (info.sampleAspectRatio > 0 ? info.sampleAspectRatio : 1);
  const dispH = info.height;
  const w = Math.min(maxWidth, dispW);
  const even = (x) => Math.max(2, 2 * Math.round(x / 2));
  const width = Math.max(2, 2 * Math.floor(w / 2));
  return { width, height: even((dispH * width) / dispW) };
}

function selectExpr(fps, sceneCuts, sceneThreshold) {
  // Numbers are written so that ffmpeg's expression parser reads them back exactly enough.
  const f = String(fps);
  let e = `isnan(prev_t)+gt(floor(t*${f}+1e-6),floor(prev_t*${f}+1e-6))`;
  if (sceneCuts) e += `+gt(scene,${String(sceneThreshold)})`;
  return e;
}

/** The ffmpeg arguments (exported for tests and for logging). */
export function ffmpegArgs(path, { fps, sceneCuts, sceneThreshold, width, height, vsync = ['-fps_mode', 'passthrough'] }) {
  const graph = [
    `select='${selectExpr(fps, sceneCuts, sceneThreshold)}'`,
    'metadata=mode=add:key=shopframe.sample:value=1',
    "metadata=mode=print:file='pipe\\:3':direct=1",
    `scale=${width}:${height}:flags=area`,
    'setsar=1',
    'format=rgba',
  ].join(',');
  return [
    '-hide_banner', '-nostdin', '-nostats', '-v', 'error',
    '-i', fileUrl(path),
    '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', graph,
    ...vsync,
    '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1',
  ];
}

/** Parses fd 3: records `frame:N pts:P pts_time:T`, `key=value`..., `shopframe.sample=1`. */
class Records {
  constructor(stream) {
    this.queue = [];
    this.ended = false;
    this.waiter = null;
    this.partial = '';
    this.current = null;
    this.malformed = null;
    stream.setEncoding('utf8');
    stream.on('data', (s) => this.feed(s));
    const end = () => { this.ended = true; this.wake(); };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  feed(s) {
    const lines = (this.partial + s).split('\n');
    this.partial = lines.pop();
    for (const raw of lines) {
      const line = raw.trim();
      if (!line) continue;
      const m = /^frame:\s*(\d+)\s+pts:\s*(\S+)\s+pts_time:\s*(\S+)/.exec(line);
      if (m) {
        this.current = { n: Number(m[1]), pts: m[2], ptsTime: m[3], meta: {} };
        continue;
      }
      const eq = line.indexOf('=');
      if (!this.current || eq <= 0) {
        this.malformed ??= line;
        continue;
      }
      const key = line.slice(0, eq), value = line.slice(eq + 1);
      if (key === 'shopframe.sample') {
        this.queue.push(this.current);
        this.current = null;
        this.wake();
      } else {
        this.current.meta[key] = value;
      }
    }
  }

  wake() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  /** The next complete record, or null once the stream ended without one. */
  async next() {
    while (this.queue.length === 0 && !this.ended) await new Promise((r) => { this.waiter = r; });
    return this.queue.shift() ?? null;
  }
}

function timeOf(record, timeBase) {
  const shown = Number(record.ptsTime);
  const tb = rational(timeBase);
  if (/^-?\d+$/.test(record.pts) && tb) {
    const t = (Number(record.pts) * tb.num) / tb.den;
    // pts_time has 6 significant digits; trust pts x time base when both agree.
    if (!Number.isFinite(shown) || Math.abs(t - shown) <= Math.max(1e-5 * Math.abs(shown), 2e-6)) return t;
  }
  return Number.isFinite(shown) ? shown : NaN;
}

function validate({ fps, sceneThreshold, maxWidth }) {
  if (typeof fps !== 'number' || !(fps > 0) || !Number.isFinite(fps) || fps > 1000) {
    throw new ShopframeError('invalid_argument', `fps: expected a number in (0, 1000], got ${fps}`);
  }
  if (typeof sceneThreshold !== 'number' || !(sceneThreshold > 0 && sceneThreshold <= 1)) {
    throw new ShopframeError('invalid_argument', `sceneThreshold: expected a number in (0, 1], got ${sceneThreshold}`);
  }
  if (!Number.isInteger(maxWidth) || maxWidth < 2) {
    throw new ShopframeError('invalid_argument', `maxWidth: expected an integer >= 2, got ${maxWidth}`);
  }
}

/**
 * Frames sampled from a video: at `fps` on a fixed time grid (the first frame at or after
 * each k/fps) plus, when sceneCuts, each frame starting a new shot (scene score >
 * sceneThreshold). Yields { t (s, from pts), width, height, rgba (Uint8Array, width x
 * height x 4, no padding), cut (a scene-cut sample) } in presentation order; a frame that is
 * both on the grid and a cut is yielded once, with cut: true.
 * `probe`: probeVideo()'s result for this file, when the caller has it (saves an ffprobe run).
 * Errors (ShopframeError): not_found, corrupt (message with ffmpeg's exit status and last
 * stderr lines), unsupported (no video stream; ffmpeg/ffprobe missing), invalid_argument.
 */
export async function* readVideoFrames(path, {
  fps = 2, sceneCuts = true, sceneThreshold = 0.3, maxWidth = 1280, ffmpeg = 'ffmpeg', ffprobe = 'ffprobe', probe = null,
} = {}) {
  validate({ fps, sceneThreshold, maxWidth });
  let info;
  if (probe) {
    if (!(probe.width > 0 && probe.height > 0)) throw new ShopframeError('invalid_argument', 'probe: expected probeVideo()\'s result');
    await checkInput(path);
    info = probe;
  } else {
    info = await probeVideo(path, { ffprobe });
  }
  const { width, height } = outputSize(info, maxWidth);
  const frameBytes = width * height * 4;
  const vsyncs = [['-fps_mode', 'passthrough'], ['-vsync', 'passthrough']];  // ffmpeg >= 5.1, older

  for (let attempt = 0; attempt < vsyncs.length; ++attempt) {
    const args = ffmpegArgs(path, { fps, sceneCuts, sceneThreshold, width, height, vsync: vsyncs[attempt] });
    const { child, done } = start(ffmpeg, args, ['ignore', 'pipe', 'pipe', 'pipe']);
    const tail = new Tail();
    let yielded = 0;
    let finished = false;
    try {
      if (child.pid === undefined) {
        const { error } = await done;
        throw spawnFailure('ffmpeg', ffmpeg, error ?? new Error('spawn failed'));
      }
      child.stderr.setEncoding('utf8').on('data', (s) => tail.push(s));
      const records = new Records(child.stdio[3]);
      let frame = new Uint8Array(frameBytes);
      let filled = 0;
      for await (const chunk of child.stdout) {
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(frameBytes - filled, chunk.length - off);
          frame.set(chunk.subarray(off, off + n), filled);
          filled += n;
          off += n;
          if (filled < frameBytes) break;
          const rec = await records.next();
          if (!rec || rec.n !== yielded) {
            throw new ShopframeError('corrupt', `video ${path}: frame ${yielded} from ffmpeg has ${rec ? `the timing record of frame ${rec.n}` : 'no timing record'}` +
              (records.malformed ? ` (unexpected line: ${records.malformed.slice(0, 200)})` : ''));
          }
          const score = Number(rec.meta['lavfi.scene_score']);
          // The score is printed with 6 decimals; half a unit of slack keeps a frame that
          // select kept for its score flagged as a cut.
          const cut = sceneCuts && Number.isFinite(score) && score > sceneThreshold - 5e-7;
          yield { t: timeOf(rec, info.timeBase), width, height, rgba: frame, cut };
          ++yielded;
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
      const { code, signal, error } = await done;
      if (error) throw spawnFailure('ffmpeg', ffmpeg, error);
      const msg = tail.lines();
      if (code !== 0) {
        if (attempt + 1 < vsyncs.length && yielded === 0 && /fps_mode/.test(msg)) continue;  // an ffmpeg before 5.1
        throw new ShopframeError('corrupt', `video ${path}: ffmpeg exited with ${code ?? signal} after ${yielded} frames: ${msg || 'no message'}`);
      }
      if (filled !== 0) {
        throw new ShopframeError('corrupt', `video ${path}: ffmpeg output ends in a partial frame (${filled} of ${frameBytes} bytes)`);
      }
      finished = true;
      return;
    } finally {
      if (!finished && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      for (const s of [child.stdout, child.stderr, child.stdio[3]]) s?.destroy();
      await done;  // reaped: no zombie, no stray ffmpeg once this generator is closed
    }
  }
}
