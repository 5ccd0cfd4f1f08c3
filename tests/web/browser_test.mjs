// Real-browser test of the built-in web page (web/, served by the binary at "/").
//
// Starts the real server on free loopback ports with a temporary data directory, lets the agent
// simulator play two Java agents of `demo-svc`, and drives Debian's headless Chromium with
// playwright-core through what a person does: pick the service, create a trace-profiling task
// from the form (and see a refusal), open the profiled traces, show a flame graph, hover a frame,
// zoom into a frame, search, flip the orientation, download an export (and see a refused one),
// compare two traces in the diff view; then, with the simulator also playing SkyWalking Rover
// for the same service, create an eBPF On-CPU task (and see a refusal), show its schedules'
// flame graph with kernel and user frames, and diff two halves of its time range (and see the
// refusal of a diff of a trace profile against an eBPF one); then, with a second Rover playing
// continuous profiling for `cart.default`, set that service's policy in the continuous-profiling
// view (and see two refusals verbatim), wait for a triggered task, and check its causes, the
// watched processes' trigger counts, the metric chart with its threshold line and the task's
// marker, the one click to the task's flame graph, and a NETWORK target whose triggered task
// opens its instance's topology; then the network view of a Rover pod: a
// network task started (or the server's refusal), the process topology, and a clicked HTTP edge's
// TCP and HTTP/1.x charts and sampled requests. Asserts on the text, element counts
// and canvas content (frames hit-tested and pixels read through the page's test hooks), saves
// screenshots, and measures the render and zoom times of a 100,000-node profile. Usage:
//   node browser_test.mjs --server BIN --simulator BIN --config application.yml --artifacts DIR

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
// Rover reports the pods' service as <service>.<namespace>; the Java agents use the same name.
const SERVICE = 'shop.default';
const SERVICE_ID = `${Buffer.from(SERVICE).toString('base64')}.1`;
const ENDPOINT = 'GET:/orders';
// A second Rover plays continuous profiling for another service, so that its triggered tasks
// never share a process with the fixed-time eBPF task above.
const CP_SERVICE = 'cart.default';
const CP_SERVICE_ID = `${Buffer.from(CP_SERVICE).toString('base64')}.1`;

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['server', 'simulator', 'config', 'artifacts']) if (!out[k]) throw new Error(`missing --${k}`);
  return out;
}

const args = parseArgs(process.argv.slice(2));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Steps: each prints "ok N - name" or "not ok N - name"; the first failure stops the test.

let stepNo = 0;
let passed = 0;
async function step(name, fn) {
  stepNo++;
  const t0 = Date.now();
  try {
    const r = await fn();
    passed++;
    console.log(`ok ${stepNo} - ${name} (${Date.now() - t0} ms)`);
    return r;
  } catch (err) {
    console.log(`not ok ${stepNo} - ${name}`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

const children = [];
function start(name, command, argv, env) {
  const log = fs.openSync(path.join(args.artifacts, `${name}.log`), 'w');
  const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  child.label = name;
  children.push(child);
  return child;
}
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([child.exited, sleep(10000).then(() => 'timeout')]);
  if (done === 'timeout') {
    child.kill('SIGKILL');
    await child.exited;
  }
}

let http = '';
async function gql(query, variables = {}) {
  const r = await fetch(`${http}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = await r.json();
  if (body.errors) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join(' ')}`);
  return body.data;
}
async function waitFor(what, fn, timeoutMs, intervalMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  fs.rmSync(args.artifacts, { recursive: true, force: true });
  fs.mkdirSync(args.artifacts, { recursive: true });
  const shot = (page, name, options = {}) => page.screenshot({ path: path.join(args.artifacts, `${name}.png`), ...options });

  await step('tools are installed: chromium, the server and the simulator', () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (scripts/install-deps.sh --test)`);
    assert.ok(fs.existsSync(args.server), `server binary missing: ${args.server}`);
    assert.ok(fs.existsSync(args.simulator), `simulator binary missing: ${args.simulator}`);
  });

  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'stackhouse-web-test-'));
  const grpcPort = await freePort();
  const httpPort = await freePort();
  http = `http://127.0.0.1:${httpPort}`;
  let browser = null;
  try {
    const server = await step('the server starts on free ports with an empty data directory', async () => {
      const s = start('server', args.server, ['--config', args.config], {
        SW_CORE_GRPC_HOST: '127.0.0.1',
        SW_CORE_GRPC_PORT: String(grpcPort),
        SW_CORE_REST_HOST: '127.0.0.1',
        SW_CORE_REST_PORT: String(httpPort),
        SW_STORAGE_DATA_DIR: path.join(temp, 'data'),
        SW_CORE_SHUTDOWN_GRACE_PERIOD: '2',
      });
      await waitFor('/healthz', async () => {
        if (s.exitCode !== null) throw new Error(`the server exited with ${s.exitCode}; see server.log`);
        const r = await fetch(`${http}/healthz`);
        return r.status === 200;
      }, 30000, 100);
      return s;
    });

    await step(`the simulator plays two Java agents and a Rover with two processes of ${SERVICE}`, async () => {
      start('simulator-java', args.simulator, ['java', '--target', `127.0.0.1:${grpcPort}`, '--service', SERVICE, '--agents', '2',
        '--poll-interval', '500', '--run-for', '240000', '--seed', '7', '--request-rate', '8']);
      start('simulator-rover', args.simulator, ['rover', '--target', `127.0.0.1:${grpcPort}`, '--service', 'shop', '--namespace', 'default',
        '--processes', '2', '--mesh=false', '--heartbeat-interval', '1000', '--check-interval', '500', '--flush-interval', '1000',
        '--run-for', '240000', '--seed', '3']);
      // Bursts of 8 s every 20 s above 80 % CPU, 500 ms response time and 10 % errors, checked
      // every second; triggered tasks profile 20 s; silence 40 s; network meters every 2 s.
      start('simulator-rover-continuous', args.simulator, ['rover', '--target', `127.0.0.1:${grpcPort}`, '--service', 'cart',
        '--namespace', 'default', '--processes', '2', '--mesh=false', '--heartbeat-interval', '1000', '--check-interval', '500',
        '--flush-interval', '1000', '--meter-interval', '2000', '--continuous', '--continuous-check-interval', '1000',
        '--continuous-duration', '20', '--silence', '40000', '--burst-every', '20000', '--burst-length', '8000',
        '--run-for', '240000', '--seed', '5']);
      await waitFor(`${SERVICE} in listServices`, async () => (await gql('{ listServices { id name } }')).listServices.some((s) => s.id === SERVICE_ID), 30000);
      await waitFor('processes that can be profiled', async () =>
        (await gql(`query($s: ID!) { queryPrepareCreateEBPFProfilingTaskData(serviceId: $s) { couldProfiling } }`, { s: SERVICE_ID }))
          .queryPrepareCreateEBPFProfilingTaskData.couldProfiling, 30000);
    });

    browser = await step('headless chromium starts (playwright-core, fresh profile)', async () => {
      const profile = fs.mkdtempSync(path.join(temp, 'chromium-'));
      return chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1440, height: 1000 },
        acceptDownloads: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync'],
      });
    });
    const page = browser.pages()[0] || (await browser.newPage());
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') fs.appendFileSync(path.join(args.artifacts, 'console.log'), `${m.text()}\n`);
    });
    page.setDefaultTimeout(20000);

    await step('the page loads from the binary and lists the service', async () => {
      await page.goto(`${http}/`);
      await page.waitForSelector('body[data-ready=true]');
      assert.equal(await page.title(), 'Stackhouse');
      const options = await page.$$eval('#service-select option', (os) => os.map((o) => o.textContent));
      assert.ok(options.includes(SERVICE), `services offered: ${options}`);
      await page.selectOption('#service-select', SERVICE_ID);
      // Both lists load independently: wait for each to settle before asserting.
      await page.waitForFunction(() => /No trace-profiling task/.test(document.querySelector('#trace-task-list').textContent));
      await page.waitForFunction(() => /No eBPF profiling task/.test(document.querySelector('#ebpf-task-list').textContent));
    });

    await step('a trace-profiling task is created from the form; an overlapping one is refused with the server\'s reason', async () => {
      await page.click('#trace-create summary');
      await page.fill('#trace-form [name=endpointName]', ENDPOINT);
      await page.selectOption('#trace-form [name=duration]', '5');
      await page.fill('#trace-form [name=minDurationThreshold]', '200');
      await page.selectOption('#trace-form [name=dumpPeriod]', '10');
      await page.fill('#trace-form [name=maxSamplingCount]', '9');
      await page.click('#trace-form button[type=submit]');
      await page.waitForFunction(() => /Created task|Refused|HTTP/.test(document.querySelector('#trace-form-message').textContent));
      assert.match(await page.textContent('#trace-form-message'), /^Created task \d+_/);
      assert.equal(await page.locator('#trace-task-list .task').count(), 1);
      assert.match(await page.textContent('#trace-task-list .task'), /GET:\/orders.*running/s);
      await page.click('#trace-form button[type=submit]');
      await page.waitForFunction(() => /Refused/.test(document.querySelector('#trace-form-message').textContent));
      assert.match(await page.textContent('#trace-form-message'), /Refused: current service already has monitor task execute at this time/);
      assert.equal(await page.locator('#trace-task-list .task').count(), 1);
      await shot(page, '01-task-created');
    });

    const taskId = (await gql(`{ getProfileTaskList(serviceId: "${SERVICE_ID}") { id } }`)).getProfileTaskList[0].id;
    // Two traces with 8 thread dumps or more, picked by id: the sampled requests vary in length
    // and the list is newest first, so the first rows may stay short ones (the agents sample
    // at most maxSamplingCount segments each).
    let chosen = [];
    const traceRow = (traceId) => `#trace-table tr.trace-row:has(td[title="${traceId}"])`;
    await step('the agents pick the task up and profiled traces arrive', async () => {
      await waitFor('4 profiled traces, two of them with 8 thread dumps or more', async () => {
        const segs = (await gql(`query($t: ID!) { getProfileTaskSegments(taskID: $t) { traceId spans { segmentId startTime endTime profiled } } }`, { t: taskId })).getProfileTaskSegments;
        if (segs.length < 4) return false;
        const rich = [];
        for (const seg of segs) {
          const s = seg.spans[0];
          const a = await gql(`query($q: [SegmentProfileAnalyzeQuery!]!) { getSegmentsProfileAnalyze(queries: $q) { trees { elements { id count } } } }`,
            { q: [{ segmentId: s.segmentId, timeRange: { start: Math.min(...seg.spans.map((x) => Number(x.startTime))), end: Math.max(...seg.spans.map((x) => Number(x.endTime))) } }] });
          const dumps = a.getSegmentsProfileAnalyze.trees.reduce((n, t) => n + t.elements[0].count, 0);
          if (dumps >= 8) rich.push(seg.traceId);
          if (rich.length === 2) break;
        }
        if (rich.length < 2) return false;
        chosen = rich;
        return true;
      }, 180000, 1000);  // generous: the simulator profiles in real time, slower on a busy machine
    });

    await step('the task shows its logs and its profiled traces; a trace shows its spans', async () => {
      await page.click('#trace-task-list .task-open');
      await page.waitForSelector('#picker:not([hidden])');
      await page.click('#picker-refresh');
      await page.waitForFunction(() => document.querySelectorAll('#trace-table tr.trace-row').length >= 4);
      await page.waitForFunction(() => /2 instances notified/.test(document.querySelector('#trace-task-list .logs summary').textContent));
      assert.match(await page.textContent('#picker-title'), /Profiled traces of GET:\/orders/);
      await page.click(traceRow(chosen[0]));
      await page.waitForSelector('#span-box .range-option');
      const options = await page.locator('#span-box .range-option').allTextContents();
      assert.match(options[0], /Whole segment/);
      assert.ok(options.some((o) => /Entry\s+GET:\/orders/.test(o)), `span list: ${options.join(' | ')}`);
      assert.ok(options.some((o) => /profiled/.test(o)));
      assert.ok(await page.isChecked('#span-box .range-option >> nth=0 >> input'));
      assert.match(await page.textContent('#selection-summary'), /Selection: GET:\/orders: trace of .*whole segment/);
    });

    const hook = (expr, arg) => page.evaluate(expr, arg);
    await step('the flame graph of the segment is drawn, with a top-frames table', async () => {
      await page.click('#analyze-button');
      await page.waitForFunction(() => window.stackhouse.flame.graph.tree !== null);
      const info = await hook(() => {
        const g = window.stackhouse.flame.graph;
        return { n: g.tree.n, root: g.tree.name(0), rootTotal: g.tree.total[0], width: g.canvas.width, height: g.canvas.height, drawn: g.visibleCount };
      });
      assert.equal(info.root, 'all threads');
      assert.ok(info.n > 30, `a real merged Java stack has more than 30 frames, got ${info.n}`);
      assert.ok(info.rootTotal > 1, `more than one dump, got ${info.rootTotal}`);
      assert.ok(info.width > 500 && info.height > 300, `canvas ${info.width}x${info.height}`);
      assert.match(await page.textContent('#flame-title'), /GET:\/orders: trace of/);
      assert.match(await page.textContent('#flame-view .render-info'), /frames, \d+ drawn/);
      const rows = await page.locator('#top-frames tbody tr').count();
      assert.ok(rows >= 2, `top frames rows: ${rows}`);
      assert.match(await page.textContent('#top-frames thead'), /Self.*Total.*Self duration/s);
      // The frames' canvas hit-testing agrees with where they are drawn.
      const rect = await hook(() => window.stackhouse.frameRect('java.lang.Thread.run'));
      assert.ok(rect, 'java.lang.Thread.run is drawn');
      const hit = await hook(({ x, y }) => {
        const g = window.stackhouse.flame.graph;
        const c = g.canvas.getBoundingClientRect();
        return g.nodeAt(x - c.left, y - c.top);
      }, rect);
      assert.equal(hit, rect.index);
      // Hover: the tooltip names the frame with its total and self (samples, duration, %).
      await page.mouse.move(rect.x, rect.y);
      await page.waitForSelector('#flame-view .flame-tooltip:not([hidden])');
      const tip = await page.textContent('#flame-view .flame-tooltip');
      assert.match(tip, /java\.lang\.Thread\.run/);
      assert.match(tip, /samples\s*[\d,]+ \(100(\.0)?%\)/);
      assert.match(tip, /duration/);
      await shot(page, '02-flame-graph-tooltip');
      await page.mouse.move(5, 5);
    });

    const zoom = await step('clicking a frame zooms into it; reset zooms out', async () => {
      const rect = await hook(() => window.stackhouse.frameRect('OrderController'));
      assert.ok(rect, 'the controller frame is drawn');
      await hook(() => window.stackhouse.measureRaster(true));
      await page.mouse.click(rect.x, rect.y);
      assert.equal(await hook(() => window.stackhouse.zoomedName()), rect.name);
      const after = await hook(() => {
        const g = window.stackhouse.flame.graph;
        return { ms: g.lastRenderMs, rect: g.rectOf(g.zoom), width: g.viewGeometry.width };
      });
      // The zoomed frame now spans the whole width.
      assert.equal(Math.round(after.rect.x), 0);
      assert.ok(Math.abs(after.rect.w - after.width) < 0.5);
      assert.match(await page.textContent('#flame-view .zoom-info'), /Zoomed into .*OrderController/);
      assert.ok(await page.isEnabled('#flame-view .reset'));
      await hook(() => window.scrollTo(0, 0));
      await shot(page, '03-zoomed');
      await page.click('#flame-view .reset');
      assert.equal(await hook(() => window.stackhouse.zoomedName()), 'all threads');
      assert.ok(await page.isDisabled('#flame-view .reset'));
      await hook(() => window.stackhouse.measureRaster(false));
      return after.ms;
    });

    await step('search highlights the matching frames and gives their share of the total', async () => {
      // The term comes from the tree, so that the test does not depend on what the simulated
      // request happened to be doing: JdbcTemplate when dumped, else the widest frame that is
      // neither the root nor found in the root's name.
      const term = await hook(() => {
        const t = window.stackhouse.flame.graph.tree;
        let best = -1;
        for (let i = 2; i < t.n; i++) {
          if (t.name(i).includes('JdbcTemplate')) return 'JdbcTemplate';
          if (t.total[i] < t.total[0] && !'java.lang.Thread.run:840'.includes(t.name(i)) &&
              !t.name(i).includes('Thread.run') && (best < 0 || t.total[i] > t.total[best])) best = i;
        }
        return best < 0 ? null : t.name(best);
      });
      assert.ok(term, 'a frame to search for');
      await page.fill('#flame-view .search', term);
      await page.press('#flame-view .search', 'Enter');
      const text = await page.textContent('#flame-view .match-info');
      const m = /^(\d+) frames \((\d+) symbols\) match · ([\d.]+)% of total$/.exec(text);
      assert.ok(m, `match info: ${text}`);
      assert.ok(Number(m[1]) > 0 && Number(m[3]) > 0 && Number(m[3]) <= 100, text);
      // The same share computed here from the tree: matched frames without a matched ancestor.
      const expected = await hook((needle) => {
        const t = window.stackhouse.flame.graph.tree;
        const lower = needle.toLowerCase();
        let v = 0;
        for (let i = 1; i < t.n; ) {
          if (t.name(i).toLowerCase().includes(lower)) {
            v += t.total[i];
            i = t.end[i];
          } else i++;
        }
        return (100 * v) / t.total[0];
      }, term);
      assert.ok(Math.abs(expected - Number(m[3])) < 0.051, `share ${m[3]} vs ${expected}`);
      // A matched frame is painted in the highlight colour, a non-matched one is not.
      const pixel = (name) => hook((n) => {
        const r = window.stackhouse.frameRect(n);
        const g = window.stackhouse.flame.graph;
        const c = g.canvas.getBoundingClientRect();
        const dpr = window.devicePixelRatio || 1;
        const d = g.ctx.getImageData(Math.round((r.x - c.left - r.width / 2 + 1.5) * dpr), Math.round((r.y - c.top - 7) * dpr), 1, 1).data;
        return [d[0], d[1], d[2]];
      }, name);
      const [r1, g1, b1] = await pixel(term);
      assert.ok(r1 > 200 && b1 > 200 && g1 < 140, `highlight colour of a match: ${[r1, g1, b1]}`);
      const [r2, g2, b2] = await pixel('java.lang.Thread.run');
      assert.ok(!(r2 > 200 && b2 > 200 && g2 < 140), `a frame that does not match is not highlighted: ${[r2, g2, b2]}`);
      await hook(() => window.scrollTo(0, 0));
      await shot(page, '04-search');
      // A bad regular expression is reported, not thrown.
      await page.fill('#flame-view .search', '/(/');
      await page.press('#flame-view .search', 'Enter');
      assert.match(await page.textContent('#flame-view .match-info'), /invalid regular expression/);
      await page.fill('#flame-view .search', '');
      await page.press('#flame-view .search', 'Enter');
      assert.equal(await page.textContent('#flame-view .match-info'), '');
    });

    await step('the flame orientation puts the root at the bottom; icicle back at the top', async () => {
      await page.click('#flame-view [data-orientation=flame]');
      let root = await hook(() => {
        const g = window.stackhouse.flame.graph;
        return { y: g.rectOf(0).y, h: g.viewGeometry.height };
      });
      assert.equal(root.y, root.h - 18);
      await page.click('#flame-view [data-orientation=icicle]');
      root = await hook(() => window.stackhouse.flame.graph.rectOf(0).y);
      assert.equal(root, 0);
    });

    await step('a top frame\'s row searches it in the graph', async () => {
      const name = await page.getAttribute('#top-frames tbody tr >> nth=0', 'data-name');
      await page.click('#top-frames tbody tr >> nth=0');
      assert.equal(await page.inputValue('#flame-view .search'), name);
      assert.match(await page.textContent('#flame-view .match-info'), /match/);
      await page.fill('#flame-view .search', '');
      await page.press('#flame-view .search', 'Enter');
    });

    await step('downloads: the export links of the selection work; a refused export shows the server\'s message', async () => {
      const href = await page.getAttribute('#download-pprof', 'href');
      assert.match(href, /^\/export\/trace\?format=pprof&segmentId=[^&]+&start=\d+&end=\d+$/);
      assert.match(await page.getAttribute('#download-folded', 'href'), /format=folded/);
      assert.match(await page.getAttribute('#download-speedscope', 'href'), /format=speedscope/);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), page.click('#download-pprof')]);
      const file = path.join(args.artifacts, 'profile.pb.gz');
      await download.saveAs(file);
      const bytes = fs.readFileSync(file);
      assert.ok(bytes.length > 20 && bytes[0] === 0x1f && bytes[1] === 0x8b, 'the pprof download is gzipped');
      const [folded] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), page.click('#download-folded')]);
      const foldedFile = path.join(args.artifacts, 'profile.folded.txt');
      await folded.saveAs(foldedFile);
      assert.match(fs.readFileSync(foldedFile, 'utf8'), /java\.lang\.Thread\.run[^\n]*;[^\n]* \d+\n/);
      // A format that does not exist: the server's 4xx text appears on the page.
      await page.evaluate(() => {
        const a = document.querySelector('#download-speedscope');
        a.setAttribute('href', a.getAttribute('href').replace('format=speedscope', 'format=nope'));
      });
      await page.click('#download-speedscope');
      await page.waitForFunction(() => /Download speedscope: HTTP 4\d\d: /.test(document.querySelector('#errors').textContent));
      assert.match(await page.textContent('#errors'), /nope/);
      await hook(() => window.scrollTo(0, 0));
      await shot(page, '05-refused-export');
      await page.click('#errors .close');
    });

    await step('diff view: two traces compared, coloured by the change in share, with gains and losses', async () => {
      await page.click(traceRow(chosen[0]));
      await page.click('#set-baseline');
      await page.click(traceRow(chosen[1]));
      await page.click('#set-comparison');
      assert.match(await page.textContent('#tab-diff'), /2\/2/);
      await page.click('#tab-diff');
      assert.notEqual(await page.textContent('#baseline-label'), 'not set');
      assert.notEqual(await page.textContent('#comparison-label'), 'not set');
      await page.click('#compare-button');
      await page.waitForFunction(() => window.stackhouse.diff.graph.tree !== null || document.querySelector('#errors').textContent !== '');
      assert.equal(await page.textContent('#errors'), '', 'no error');
      const summary = await page.textContent('#diff-summary');
      assert.match(summary, /^Baseline total \d+ samples?, comparison total \d+ samples? · \d+ frames$/);
      const d = await hook(() => {
        const g = window.stackhouse.diff.graph;
        const m = g.tree.metrics;
        let grew = 0;
        let shrank = 0;
        for (let i = 1; i < g.tree.n; i++) {
          if (m.shareDelta[i] > 0) grew++;
          if (m.shareDelta[i] < 0) shrank++;
        }
        return { n: g.tree.n, grew, shrank, mode: g.colourMode };
      });
      assert.equal(d.mode, 'diff');
      assert.ok(d.n > 30 && d.grew > 0 && d.shrank > 0, JSON.stringify(d));
      assert.ok((await page.locator('#diff-gains tbody tr.diff-row').count()) > 0);
      assert.ok((await page.locator('#diff-losses tbody tr.diff-row').count()) > 0);
      // The frame whose share grew most is painted red, the one that shrank most blue (the
      // widest drawn of each, read back from the canvas).
      const painted = await hook(() => {
        const g = window.stackhouse.diff.graph;
        const t = g.tree;
        const delta = t.metrics.shareDelta;
        let up = -1;
        let down = -1;
        for (let i = 1; i < t.n; i++) {
          const r = g.rectOf(i);
          if (!r || r.w < 4) continue;
          if (delta[i] > 0 && (up < 0 || delta[i] > delta[up])) up = i;
          if (delta[i] < 0 && (down < 0 || delta[i] < delta[down])) down = i;
        }
        const dpr = window.devicePixelRatio || 1;
        const colour = (i) => {
          const r = g.rectOf(i);
          const p = g.ctx.getImageData(Math.round((Math.max(r.x, 0) + 1.5) * dpr), Math.round((r.y + 1.5) * dpr), 1, 1).data;
          return [p[0], p[1], p[2]];
        };
        const c = g.canvas.getBoundingClientRect();
        const r = g.rectOf(up);
        return { red: colour(up), blue: colour(down), upName: t.name(up), at: { x: c.left + r.x + r.w / 2, y: c.top + r.y + r.h / 2 } };
      });
      assert.ok(painted.red[0] > painted.red[2] + 30, `a gain is red: ${painted.red}`);
      assert.ok(painted.blue[2] > painted.blue[0] + 30, `a loss is blue: ${painted.blue}`);
      // The tables show the largest changes of self share, signed.
      assert.match(await page.textContent('#diff-gains tbody tr.diff-row >> nth=0'), /\+[\d.]+ pp/);
      assert.match(await page.textContent('#diff-losses tbody tr.diff-row >> nth=0'), /-[\d.]+ pp/);
      // Tooltip of a diff frame.
      const rect = await hook((n) => window.stackhouse.diffFrameRect(n), painted.upName);
      await page.mouse.move(rect.x, rect.y);
      await page.waitForSelector('#diff-view .flame-tooltip:not([hidden])');
      assert.match(await page.textContent('#diff-view .flame-tooltip'), /baseline.*comparison.*change in share: [+-]?[\d.]+ pp/s);
      await shot(page, '06-diff');
      await page.mouse.move(5, 5);
      await page.click('#tab-flame');
    });

    await step('eBPF: an On-CPU task is created from the form; a too-short one is refused with the server\'s reason', async () => {
      await page.click('#ebpf-create summary');
      await page.waitForFunction(() => document.querySelector('#ebpf-prepare').textContent !== '…');
      assert.match(await page.textContent('#ebpf-prepare'), /Rover reports processes of this service that can be profiled/);
      const labels = await page.locator('#ebpf-labels label').allTextContents();
      assert.ok(labels.some((l) => l.trim() === 'k8s-service'), `process labels offered: ${labels}`);
      await page.selectOption('#ebpf-form [name=targetType]', 'ON_CPU');
      await page.fill('#ebpf-form [name=duration]', '30');
      await page.click('#ebpf-form button[type=submit]');
      await page.waitForFunction(() => /Refused|Created|HTTP/.test(document.querySelector('#ebpf-form-message').textContent));
      assert.match(await page.textContent('#ebpf-form-message'), /Refused: the fixed time duration must be greater than or equals 60s/);
      await page.check('#ebpf-labels input[value=k8s-service]');
      await page.fill('#ebpf-form [name=duration]', '180');
      await page.click('#ebpf-form button[type=submit]');
      await page.waitForFunction(() => /Created/.test(document.querySelector('#ebpf-form-message').textContent));
      await page.waitForSelector('#ebpf-task-list .task');
      assert.match(await page.textContent('#ebpf-task-list .task'), /ON_CPU: k8s-service.*running/s);
      await hook(() => window.scrollTo(0, 0));
      await shot(page, '07-ebpf-task-created');
    });

    const ebpfTaskId = (await gql(`query($s: ID) { queryEBPFProfilingTasks(serviceId: $s) { taskId } }`, { s: SERVICE_ID })).queryEBPFProfilingTasks[0].taskId;
    await step('Rover picks the task up and uploads stacks for 6 s', async () => {
      await waitFor('schedules spanning 6 s with samples', async () => {
        const schedules = (await gql(`query($t: ID!) { queryEBPFProfilingSchedules(taskId: $t) { scheduleId startTime endTime } }`, { t: ebpfTaskId })).queryEBPFProfilingSchedules;
        if (schedules.length < 2) return false;
        const start = Math.min(...schedules.map((x) => Number(x.startTime)));
        const end = Math.max(...schedules.map((x) => Number(x.endTime)));
        if (end - start < 6000) return false;
        const a = await gql(`query($ids: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!) { analysisEBPFProfilingResult(scheduleIdList: $ids, timeRanges: $r, aggregateType: COUNT) { trees { elements { id } } } }`,
          { ids: schedules.map((x) => x.scheduleId), r: [{ start, end }] });
        return a.analysisEBPFProfilingResult.trees.length > 0;
      }, 90000, 1000);
    });

    let ebpfRange;
    await step('eBPF: the task\'s schedules and their flame graph, kernel and user frames in distinct colours', async () => {
      await page.click('#ebpf-task-list .task-open');
      await page.waitForSelector('#ebpf-picker:not([hidden])');
      await page.click('#picker-refresh');
      await page.waitForFunction(() => document.querySelectorAll('#schedule-table tr.schedule-row').length >= 2);
      assert.match(await page.textContent('#picker-title'), /Schedules of the ON_CPU task \(k8s-service\)/);
      assert.equal(await page.locator('#schedule-table tr.schedule-row input:checked').count(), await page.locator('#schedule-table tr.schedule-row').count());
      assert.match(await page.textContent('#schedule-table tbody'), /java.*shop-.*k8s-service/s);
      assert.ok(await page.isHidden('#aggregate-label'), 'ON_CPU has no aggregate choice');
      assert.match(await page.textContent('#selection-summary'), /Selection: ON_CPU 2 schedules, /);
      ebpfRange = await hook(() => window.stackhouse.state.ebpfRange);
      await page.click('#analyze-button');
      await page.waitForFunction(() => window.stackhouse.flame.graph.tree?.name(0) === 'all processes');
      const kinds = await hook(() => {
        const g = window.stackhouse.flame.graph;
        const t = g.tree;
        const widest = (kind) => {
          let k = -1;
          for (let i = 1; i < t.n; i++) if (t.kind[i] === kind && g.rectOf(i) && g.rectOf(i).w >= 4 && (k < 0 || t.total[i] > t.total[k])) k = i;
          return k;
        };
        const kernel = widest(1);
        const user = widest(2);
        const dpr = window.devicePixelRatio || 1;
        const colour = (i) => {
          const r = g.rectOf(i);
          const p = g.ctx.getImageData(Math.round((Math.max(r.x, 0) + 1.5) * dpr), Math.round((r.y + 1.5) * dpr), 1, 1).data;
          return [p[0], p[1], p[2]];
        };
        return { n: t.n, kernel: kernel > 0 ? t.name(kernel) : null, user: user > 0 ? t.name(user) : null,
          kernelColour: kernel > 0 ? colour(kernel) : null, userColour: user > 0 ? colour(user) : null };
      });
      assert.ok(kinds.n > 50, `frames: ${kinds.n}`);
      assert.ok(kinds.kernel && kinds.user, `kernel and user frames drawn: ${JSON.stringify(kinds)}`);
      assert.ok(kinds.kernelColour[2] > kinds.kernelColour[0], `kernel frames are cool: ${kinds.kernelColour}`);
      assert.ok(kinds.userColour[0] > kinds.userColour[2], `user frames are warm: ${kinds.userColour}`);
      const rect = await hook((n) => window.stackhouse.frameRect(n), kinds.kernel);
      await page.mouse.move(rect.x, rect.y);
      await page.waitForSelector('#flame-view .flame-tooltip:not([hidden])');
      const tip = await page.textContent('#flame-view .flame-tooltip');
      assert.match(tip, /kernel space/);
      assert.match(tip, /sample count\s*[\d,]+ samples? \([\d.]+%\)/);
      assert.match(await page.textContent('#flame-view .legend'), /kernel frame/);
      await shot(page, '08-ebpf-flame-graph');
      await page.mouse.move(5, 5);
      const href = await page.getAttribute('#download-pprof', 'href');
      assert.match(href, /^\/export\/ebpf\?format=pprof(&scheduleId=[0-9a-f]+){2}&start=\d+&end=\d+&aggregateType=COUNT$/);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), page.click('#download-pprof')]);
      const file = path.join(args.artifacts, 'ebpf.pb.gz');
      await download.saveAs(file);
      const bytes = fs.readFileSync(file);
      assert.ok(bytes.length > 20 && bytes[0] === 0x1f && bytes[1] === 0x8b, 'the eBPF pprof download is gzipped');
    });

    await step('diff of an eBPF selection against a trace selection: the server\'s refusal is shown', async () => {
      await page.click('#set-baseline');
      await page.click('#tab-diff');
      await page.click('#compare-button');
      await page.waitForFunction(() => /^Diff: /.test(document.querySelector('#errors').textContent));
      const text = await page.textContent('#errors');
      assert.ok(text.length > 10, text);
      assert.match(await page.textContent('#diff-view .empty'), /The diff failed/);
      await page.click('#errors .close');
    });

    await step('eBPF diff: the first half of the time range against the second half', async () => {
      const local = (ms) => hook((t) => {
        const d = new Date(t);
        const p = (n) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
      }, ms);
      const mid = Math.floor((ebpfRange.start + ebpfRange.end) / 2000) * 1000;
      await page.click('#tab-flame');
      await page.fill('#ebpf-from', await local(ebpfRange.start));
      await page.fill('#ebpf-to', await local(mid - 1000));
      await page.click('#set-baseline');
      const first = await hook(() => window.stackhouse.state.baseline.timeRanges[0]);
      assert.equal(first.end, mid - 1);
      await page.fill('#ebpf-from', await local(mid));
      await page.fill('#ebpf-to', await local(ebpfRange.end));
      await page.click('#set-comparison');
      await page.click('#tab-diff');
      await page.click('#compare-button');
      await page.waitForFunction(() => window.stackhouse.diff.graph.tree?.name(0) === 'all' && /samples/.test(document.querySelector('#diff-summary').textContent));
      assert.equal(await page.textContent('#errors'), '');
      assert.match(await page.textContent('#diff-summary'), /^Baseline total [\d,]+ samples, comparison total [\d,]+ samples · [\d,]+ frames$/);
      assert.ok((await page.locator('#diff-gains tbody tr.diff-row').count()) > 0);
      await hook(() => window.scrollTo(0, 0));
      await shot(page, '09-ebpf-diff');
      await page.click('#tab-flame');
    });

    await step('continuous profiling: a service without policy; a decimal threshold is refused with the server\'s words', async () => {
      await waitFor(`${CP_SERVICE}'s processes`, async () =>
        (await gql(`query($s: ID!) { queryPrepareCreateEBPFProfilingTaskData(serviceId: $s) { couldProfiling } }`, { s: CP_SERVICE_ID }))
          .queryPrepareCreateEBPFProfilingTaskData.couldProfiling, 30000);
      await page.click('#reload-button');
      await page.waitForFunction((id) => [...document.querySelectorAll('#service-select option')].some((o) => o.value === id), CP_SERVICE_ID);
      await page.selectOption('#service-select', CP_SERVICE_ID);
      await page.click('#tab-continuous');
      await page.waitForFunction((name) => document.querySelector('#cp-title').textContent === `Continuous profiling of ${name}`, CP_SERVICE);
      await page.waitForFunction(() => /No policy/.test(document.querySelector('#cp-targets').textContent));
      assert.match(await page.textContent('#cp-instances tbody'), /Set a policy/);
      assert.match(await page.textContent('#cp-task-list'), /No task triggered yet/);
      await page.click('#cp-edit summary');
      await page.click('#cp-add-target');
      const item = page.locator('#cp-targets .cp-item').first();
      assert.equal(await item.locator('[data-k=type]').inputValue(), 'PROCESS_CPU');
      await item.locator('[data-k=threshold]').fill('50.5');
      await item.locator('[data-k=period]').fill('5');
      await item.locator('[data-k=count]').fill('3');
      await page.click('#cp-save');
      await page.waitForFunction(() => document.querySelector('#cp-policy-message').classList.contains('refused'));
      assert.equal(await page.textContent('#cp-policy-message'), 'check PROCESS_CPU in ON_CPU error: parsing threshold error');
      // count > period: the server's second message, also verbatim.
      await item.locator('[data-k=threshold]').fill('80');
      await item.locator('[data-k=count]').fill('6');
      await page.click('#cp-save');
      await page.waitForFunction(() => /count must be/.test(document.querySelector('#cp-policy-message').textContent));
      assert.equal(await page.textContent('#cp-policy-message'), 'check PROCESS_CPU in ON_CPU error: count must be equal to or smaller than period');
      assert.deepEqual((await gql(`query($s: ID!) { queryContinuousProfilingServiceTargets(serviceId: $s) { type } }`, { s: CP_SERVICE_ID }))
        .queryContinuousProfilingServiceTargets, [], 'nothing stored');
    });

    await step('continuous profiling: the policy is saved from the editor (CPU and an HTTP item with a URI list)', async () => {
      const item = page.locator('#cp-targets .cp-item').first();
      await item.locator('[data-k=count]').fill('3');
      await page.click('#cp-targets .cp-add-item');
      const http = page.locator('#cp-targets .cp-item').nth(1);
      await http.locator('[data-k=type]').selectOption('HTTP_AVG_RESPONSE_TIME');
      // Changing the type redraws the row: the URI inputs appear for HTTP items only.
      assert.ok(await page.locator('#cp-targets .cp-item').nth(1).locator('[data-k=uriList]').isVisible());
      assert.ok(!(await item.locator('[data-k=uriList]').isVisible()), 'no URI list for PROCESS_CPU');
      const row = page.locator('#cp-targets .cp-item').nth(1);
      await row.locator('[data-k=threshold]').fill('500');
      await row.locator('[data-k=period]').fill('5');
      await row.locator('[data-k=count]').fill('3');
      await row.locator('[data-k=uriList]').fill('/reviews, /orders');
      await page.click('#cp-save');
      await page.waitForFunction(() => /Policy saved/.test(document.querySelector('#cp-policy-message').textContent));
      const summary = await page.textContent('#cp-target-summary');
      assert.match(summary, /ON_CPU: PROCESS_CPU >= 80% \(3 of 5 s\); HTTP_AVG_RESPONSE_TIME >= 500ms \(3 of 5 s on \/reviews, \/orders\)/);
      assert.match(summary, /triggered \d+×/);
      const stored = (await gql(`query($s: ID!) { queryContinuousProfilingServiceTargets(serviceId: $s) { type checkItems { type threshold period count uriList uriRegex } } }`,
        { s: CP_SERVICE_ID })).queryContinuousProfilingServiceTargets;
      assert.deepEqual(stored, [{ type: 'ON_CPU', checkItems: [
        { type: 'PROCESS_CPU', threshold: '80', period: 5, count: 3, uriList: null, uriRegex: null },
        { type: 'HTTP_AVG_RESPONSE_TIME', threshold: '500', period: 5, count: 3, uriList: ['/reviews', '/orders'], uriRegex: null }] }]);
      // The watched processes appear for the policy's target.
      await page.waitForFunction(() => document.querySelectorAll('#cp-instances .cp-process-row').length === 2);
      assert.equal(await page.inputValue('#cp-monitor-target'), 'ON_CPU');
    });

    const cpTask = await step('Rover fetches the policy, a burst crosses the thresholds and it triggers an On-CPU task with its causes', async () => {
      const task = await waitFor('a CONTINUOUS_PROFILING task', async () => {
        const tasks = (await gql(`query($s: ID) { queryEBPFProfilingTasks(serviceId: $s, triggerType: CONTINUOUS_PROFILING) {
          taskId processName serviceInstanceName targetType continuousProfilingCauses { type message } } }`, { s: CP_SERVICE_ID })).queryEBPFProfilingTasks;
        return tasks[0];
      }, 90000, 1000);
      assert.equal(task.targetType, 'ON_CPU');
      const messages = task.continuousProfilingCauses.map((c) => c.message);
      assert.ok(messages.some((m) => /^PROCESS_CPU: current \d+\.\d{2}% >= threshold 80\.00%$/.test(m)), `causes: ${messages}`);
      assert.ok(messages.some((m) => /^HTTP_AVG_RESPONSE_TIME: current \d+\.\d{2}ms >= threshold 500\.00ms on \/(reviews|orders)$/.test(m)), `causes: ${messages}`);
      // Its stacks arrive through collectProfilingData with the task id the server gave.
      await waitFor('the triggered task\'s samples', async () => {
        const schedules = (await gql(`query($t: ID!) { queryEBPFProfilingSchedules(taskId: $t) { scheduleId startTime endTime } }`, { t: task.taskId })).queryEBPFProfilingSchedules;
        return schedules.length > 0 && Math.max(...schedules.map((x) => Number(x.endTime) - Number(x.startTime))) >= 3000;
      }, 60000, 1000);
      return task;
    });

    await step('continuous profiling: watched processes with trigger counts, the task timeline with causes over the metric and its threshold lines', async () => {
      await page.click('#cp-refresh');
      await page.waitForFunction((id) => !!document.querySelector(`#cp-task-list .cp-task[data-task-id="${id}"]`), cpTask.taskId);
      const li = page.locator(`#cp-task-list .cp-task[data-task-id="${cpTask.taskId}"]`);
      const causes = await li.locator('.cp-cause').allTextContents();
      assert.deepEqual(causes, cpTask.continuousProfilingCauses.map((c) => c.message), 'the causes are the server\'s messages');
      assert.match(await li.textContent(), new RegExp(`ON_CPU on ${cpTask.processName}`));
      // Watched: the triggered process counts its task and shows when.
      const rows = await page.$$eval('#cp-instances .cp-process-row', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
      const triggered = rows.filter((r) => Number(r[3]) >= 1);
      assert.ok(triggered.length >= 1, `rows: ${JSON.stringify(rows)}`);
      assert.ok(triggered.every((r) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(r[4])), `last trigger times: ${JSON.stringify(rows)}`);
      assert.match(await page.textContent('#cp-instances tbody'), /cart-/);
      assert.match(await page.textContent('#cp-target-summary'), /triggered [1-9]\d*×, last \d{4}-/);
      // The chart follows the latest task's process; a click on a watched process shows that one:
      // CPU with its threshold line and the task's marker.
      assert.equal(await page.inputValue('#cp-metric'), 'PROCESS_CPU');
      await page.click(`#cp-instances .cp-process-row[data-instance="${cpTask.serviceInstanceName}"][data-process="${cpTask.processName}"]`);
      await page.waitForFunction((id) => !!document.querySelector(`#cp-chart .task-mark[data-task-id="${id}"]`), cpTask.taskId);
      assert.equal(await page.inputValue('#cp-process'), JSON.stringify([cpTask.serviceInstanceName, cpTask.processName]));
      assert.equal(await page.locator('#cp-instances .cp-process-row.selected').count(), 1);
      await page.waitForFunction(() => Number(document.querySelector('#cp-chart').dataset.points || 0) >= 1);
      const chart = await hook((id) => {
        const svg = document.querySelector('#cp-chart svg');
        return {
          thresholds: [...svg.querySelectorAll('.threshold-label')].map((t) => t.textContent),
          marks: [...svg.querySelectorAll('.task-mark')].map((m) => m.dataset.taskId),
          markTitle: svg.querySelector(`.task-mark[data-task-id="${id}"] title`)?.textContent,
          dots: svg.querySelectorAll('.series circle').length,
          legend: document.querySelector('#cp-chart .legend').textContent,
        };
      }, cpTask.taskId);
      assert.deepEqual(chart.thresholds, ['ON_CPU threshold 80%']);
      assert.ok(chart.marks.includes(cpTask.taskId), `task markers: ${chart.marks}`);
      assert.match(chart.markTitle, /PROCESS_CPU: current/);
      assert.ok(chart.dots >= 1);
      assert.equal(chart.legend, 'Process CPU');
      // The HTTP metric: one series per uri of the item, with its own threshold.
      await page.selectOption('#cp-metric', 'HTTP_AVG_RESPONSE_TIME');
      await page.waitForFunction(() => document.querySelectorAll('#cp-chart .threshold-label').length === 1 &&
        /500ms/.test(document.querySelector('#cp-chart .threshold-label').textContent));
      await page.waitForFunction(() => Number(document.querySelector('#cp-chart').dataset.series) === 2);
      assert.match(await page.textContent('#cp-chart .legend'), /uri=\/orders.*uri=\/reviews|uri=\/reviews.*uri=\/orders/);
      await page.selectOption('#cp-metric', 'PROCESS_CPU');
      await page.waitForFunction(() => /80%/.test(document.querySelector('#cp-chart .threshold-label')?.textContent || ''));
      await hook(() => document.querySelector('#continuous-panel').scrollIntoView());
      await shot(page, '10-continuous-profiling', { fullPage: true });
    });

    await step('continuous profiling: one click from a triggered task to its flame graph', async () => {
      await page.locator(`#cp-task-list .cp-task[data-task-id="${cpTask.taskId}"] .cp-flame`).click();
      await page.waitForSelector('#flame-panel:not([hidden])');
      await page.waitForFunction(() => (window.stackhouse.flame.graph.tree?.n || 0) > 10);
      assert.match(await page.textContent('#picker-title'), new RegExp(`Schedules of the ON_CPU task \\(triggered on ${cpTask.processName} by PROCESS_CPU`));
      assert.ok(await page.isHidden('#continuous-panel'));
      assert.match(await page.textContent('#flame-title'), /ON_CPU/);
      await shot(page, '11-continuous-flame-graph');
    });

    await step('continuous profiling: a NETWORK target added to the policy triggers a task whose button opens its instance\'s topology', async () => {
      await page.click('#tab-continuous');
      await page.waitForSelector('#continuous-panel:not([hidden])');
      await page.click('#cp-add-target');
      const target = page.locator('#cp-targets .cp-target').nth(1);
      await target.locator('.cp-target-type').selectOption('NETWORK');
      await target.locator('.cp-item [data-k=type]').selectOption('HTTP_ERROR_RATE');
      const item = page.locator('#cp-targets .cp-target').nth(1).locator('.cp-item');
      await item.locator('[data-k=threshold]').fill('10');
      await item.locator('[data-k=period]').fill('5');
      await item.locator('[data-k=count]').fill('3');
      await page.click('#cp-save');
      await page.waitForFunction(() => /Policy saved/.test(document.querySelector('#cp-policy-message').textContent));
      assert.match(await page.textContent('#cp-target-summary'), /NETWORK: HTTP_ERROR_RATE >= 10% \(3 of 5 s\)/);
      const task = await waitFor('a continuous NETWORK task', async () => {
        const tasks = (await gql(`query($s: ID) { queryEBPFProfilingTasks(serviceId: $s, targets: [NETWORK], triggerType: CONTINUOUS_PROFILING) {
          taskId serviceInstanceId continuousProfilingCauses { message } } }`, { s: CP_SERVICE_ID })).queryEBPFProfilingTasks;
        return tasks[0];
      }, 90000, 1000);
      assert.match(task.continuousProfilingCauses[0].message, /^HTTP_ERROR_RATE: current \d+\.\d{2}% >= threshold 10\.00%$/);
      await page.click('#cp-refresh');
      const li = page.locator(`#cp-task-list .cp-task[data-task-id="${task.taskId}"]`);
      await li.waitFor();
      assert.match(await li.textContent(), /NETWORK on java/);
      await li.locator('.cp-topology').click();
      await page.waitForSelector('#network-panel:not([hidden])');
      assert.ok(await page.isHidden('#continuous-panel'));
      await page.waitForFunction((id) => document.querySelector('#net-instance').value === id, task.serviceInstanceId);
      // Rover reports the triggered task's network data every 2 s from the trigger on; the view
      // may have opened before the first report landed, so refresh until its calls show.
      await waitFor('the triggered task\'s processes in the topology', async () => {
        await page.click('#net-refresh');
        return (await page.$$('#net-topology .net-node.real')).length >= 1;
      }, 30000, 1000);
      assert.equal(await page.getAttribute('#tab-network', 'aria-selected'), 'true');
    });

    await step('network view: an instance of the Rover, a network task started or refused with the server\'s words', async () => {
      await page.selectOption('#service-select', SERVICE_ID);
      await page.click('#tab-network');
      await page.waitForFunction((name) => document.querySelector('#net-title').textContent === `Network profiling of ${name}`, SERVICE);
      const pod = await waitFor('a pod among the instances', async () => {
        await page.click('#net-refresh');
        const options = await page.$$eval('#net-instance option', (os) => os.map((o) => ({ value: o.value, text: o.textContent })));
        return options.find((o) => /^shop-/.test(o.text));
      }, 30000, 1000);
      await page.selectOption('#net-instance', pod.value);
      await page.click('#net-create summary');
      await page.fill('#net-form [name=minDuration]', '100');
      await page.click('#net-start');
      await page.waitForFunction(() => document.querySelector('#net-message').textContent !== '');
      const cls = await page.getAttribute('#net-message', 'class');
      const text = await page.textContent('#net-message');
      if (/refused/.test(cls)) {
        // Until network tasks are served: the refusal exactly as the server words it.
        assert.equal(text, 'NETWORK profiling is not supported by this server yet; use ON_CPU or OFF_CPU');
        assert.ok(await page.isDisabled('#net-keep'));
      } else {
        assert.match(text, /^Started task \S+\.$/);
        await page.waitForFunction(() => /running since/.test(document.querySelector('#net-task-state').textContent));
        await page.click('#net-keep');
        await page.waitForFunction(() => /Kept alive|refused/.test(document.querySelector('#net-message').textContent + document.querySelector('#net-message').className));
      }
      return pod;
    });

    await step('network view: the process topology, and an edge\'s TCP and HTTP metrics over time with its sampled requests', async () => {
      await waitFor('calls in the topology', async () => {
        await page.click('#net-refresh');
        await sleep(300);
        return (await page.locator('#net-topology .net-call').count()) >= 2;
      }, 60000, 1000);
      const topo = await hook(() => ({
        real: [...document.querySelectorAll('#net-topology .net-node.real text')].map((t) => t.textContent),
        virtual: [...document.querySelectorAll('#net-topology .net-node.virtual text')].map((t) => t.textContent),
        calls: [...document.querySelectorAll('#net-topology .net-call-label')].map((t) => t.textContent),
      }));
      assert.ok(topo.real.includes('java'), `processes: ${topo.real}`);
      assert.ok(topo.virtual.length >= 1, `peers: ${topo.virtual}`);
      assert.ok(topo.calls.every((c) => /^(HTTP|HTTPS|TLS|TCP) · (CLIENT|SERVER)( \| (CLIENT|SERVER))?$/.test(c)), `calls: ${topo.calls}`);
      const httpIndex = topo.calls.findIndex((c) => /^HTTP · CLIENT/.test(c));
      assert.ok(httpIndex >= 0, `an HTTP client call among ${topo.calls}`);
      await page.locator('#net-topology .net-call').nth(httpIndex).locator('.net-call-label').click();
      await page.waitForSelector('#net-call:not([hidden])');
      await page.waitForFunction(() => document.querySelectorAll('#net-charts .net-chart').length === 10);
      assert.match(await page.textContent('#net-call-title'), /^java → .+ \(HTTP, CLIENT\)$/);
      assert.equal(await page.locator('#net-topology .net-call.selected').count(), 1);
      const charts = await hook(() => Object.fromEntries([...document.querySelectorAll('#net-charts .net-chart')].map((c) => [c.dataset.expression, {
        dots: c.querySelectorAll('circle').length, legend: c.querySelector('.legend')?.textContent || '', error: c.querySelector('.refused')?.textContent || '' }])));
      assert.ok(charts.process_relation_client_write_cpm.dots >= 1, JSON.stringify(charts));
      assert.ok(charts.process_relation_http1_request_cpm.dots >= 1, JSON.stringify(charts));
      assert.match(charts.process_relation_http1_response_status_cpm.legend, /code=200/);
      assert.match(charts.process_relation_client_write_rtt_time_percentile.legend, /p=50.*p=99/);
      assert.ok(Object.values(charts).every((c) => !c.error), JSON.stringify(charts));
      const samples = await page.locator('#net-samples tbody tr').allTextContents();
      assert.ok(samples.length >= 1 && (samples[0].includes('No sampled request') || /(slow|4xx|5xx).* ms/.test(samples[0])), `samples: ${samples}`);
      await hook(() => document.querySelector('#network-panel').scrollIntoView());
      await shot(page, '12-network-topology', { fullPage: true });
    });

    await step('network view: a sampled request opens its trace, with the raw request and response Rover attached to its spans', async () => {
      // Rover samples requests on one HTTP client call per process each round: find a call
      // that lists a sampled request with a trace.
      await waitFor('a sampled request with a trace', async () => {
        await page.click('#net-refresh');
        await page.waitForFunction(() => document.querySelectorAll('#net-topology .net-call').length >= 2);
        const labels = await page.locator('#net-topology .net-call-label').allTextContents();
        for (let i = 0; i < labels.length; i++) {
          if (!/^HTTP · CLIENT/.test(labels[i])) continue;
          await page.locator('#net-topology .net-call').nth(i).locator('.net-call-label').click();
          await page.waitForFunction((n) => document.querySelectorAll('#net-charts .net-chart').length === n
            && document.querySelector('#net-samples tbody tr'), 10);
          if (await page.locator('#net-samples .net-trace-open').count() > 0) return true;
        }
        return false;
      }, 60000, 1000);
      assert.ok(await page.locator('#net-trace').isHidden(), 'the trace panel waits for a click');
      const traceId = await page.locator('#net-samples .net-trace-open').first().textContent();
      await page.locator('#net-samples .net-trace-open').first().click();
      await page.waitForSelector('#net-trace:not([hidden]) .net-span');
      assert.equal(await page.textContent('#net-trace-title'), `Trace ${traceId}`);
      const trace = await hook(() => ({
        spans: [...document.querySelectorAll('#net-trace .net-span-head')].map((e) => e.textContent),
        events: [...document.querySelectorAll('#net-trace .net-event')].map((e) => ({
          name: e.querySelector('strong').textContent,
          raw: e.querySelector('.net-raw')?.textContent || '',
        })),
      }));
      assert.ok(trace.spans.length >= 2, `spans: ${trace.spans}`);
      assert.ok(trace.spans.some((t) => /Exit/.test(t)) && trace.spans.some((t) => /Entry/.test(t)), `spans: ${trace.spans}`);
      const request = trace.events.find((e) => e.name === 'HTTP Request Sampling');
      const response = trace.events.find((e) => e.name === 'HTTP Response Sampling');
      assert.ok(request && /^GET \/api\/\S+ HTTP\/1\.1\r?\n/.test(request.raw), JSON.stringify(trace.events));
      assert.ok(request.raw.includes(`sw8: 1-${traceId}-`), request.raw);
      assert.ok(response && /^HTTP\/1\.1 \d{3} /.test(response.raw), JSON.stringify(trace.events));
      assert.ok(trace.events.some((e) => e.name === 'Syscall Write' && e.raw === ''), JSON.stringify(trace.events));
      await page.locator('#net-trace details.net-raw-box').first().evaluate((d) => { d.open = true; });
      await shot(page, '13-network-trace', { fullPage: true });
    });

    let bench;
    await step('benchmark: a 100,000-node profile renders and zooms (times printed)', async () => {
      const runs = [];
      for (let k = 0; k < 5; k++) runs.push(await hook(() => window.stackhouse.benchmark(100000)));
      const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const all = (key) => runs.map((r) => r[key]);
      const zooms = runs.flatMap((r) => r.zoomMs);
      bench = {
        nodes: runs[0].nodes,
        maxDepth: runs[0].maxDepth,
        canvasWidth: runs[0].canvasWidth,
        drawnAtFirstRender: runs[0].drawnAtFirstRender,
        runs: runs.length,
        jsonParseMs: all('jsonParseMs'),
        buildMs: all('buildMs'),
        drawMs: all('drawMs'),
        renderMs: all('renderMs'),
        renderMedianMs: median(all('renderMs')),
        renderMaxMs: Math.max(...all('renderMs')),
        zoomCount: zooms.length,
        zoomMedianMs: median(zooms),
        zoomMaxMs: Math.max(...zooms),
        zoomDrawnMax: Math.max(...runs.flatMap((r) => r.zoomDrawn)),
        resetMedianMs: median(all('resetMs')),
        searchMedianMs: median(all('searchMs')),
        realTraceZoomMs: zoom,
      };
      fs.writeFileSync(path.join(args.artifacts, 'timings.json'), `${JSON.stringify({ bench, runs }, null, 2)}\n`);
      assert.equal(bench.nodes, 100000);
      // Generous bounds, so that a loaded CI machine does not fail the test; the goal (100 ms)
      // is reported below and recorded in docs/performance.md.
      assert.ok(bench.renderMedianMs < 1000, `render median ${bench.renderMedianMs} ms`);
      assert.ok(bench.zoomMedianMs < 500, `zoom median ${bench.zoomMedianMs} ms`);
      await hook(() => document.querySelector('#benchmark').scrollIntoView());
      await shot(page, '14-benchmark-100k');
    });

    await step('no uncaught error in the page', () => {
      assert.deepEqual(pageErrors, []);
    });

    const f = (x) => x.toFixed(1);
    console.log(`# benchmark: ${bench.nodes} nodes (depth ${bench.maxDepth}), canvas ${bench.canvasWidth} px, ${bench.runs} runs in headless chromium`);
    console.log(`# render (GraphQL JSON -> tree -> drawn): median ${f(bench.renderMedianMs)} ms, max ${f(bench.renderMaxMs)} ms ` +
      `[tree ${bench.buildMs.map(f).join('/')} ms, drawing ${bench.drawMs.map(f).join('/')} ms; JSON.parse ${bench.jsonParseMs.map(f).join('/')} ms not included]`);
    console.log(`# zoom (click -> drawn), ${bench.zoomCount} zooms: median ${f(bench.zoomMedianMs)} ms, max ${f(bench.zoomMaxMs)} ms; ` +
      `reset ${f(bench.resetMedianMs)} ms; search ${f(bench.searchMedianMs)} ms; zoom on the real trace ${f(bench.realTraceZoomMs)} ms`);
    console.log(`# goal < 100 ms: render ${bench.renderMedianMs < 100 ? 'met' : 'MISSED'}, zoom ${bench.zoomMedianMs < 100 ? 'met' : 'MISSED'} (medians)`);
    await browser.close();
    browser = null;
    await stop(server);
  } finally {
    if (browser) await browser.close().catch(() => {});
    for (const c of children) await stop(c);
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

main().then(
  () => {
    console.log(`# screenshots and logs: ${args.artifacts}`);
    console.log(`${passed} passed, 0 failed`);
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    console.log(`# screenshots and logs: ${args.artifacts}`);
    console.log(`${passed} passed, 1 failed`);
    process.exitCode = 1;
  },
);
