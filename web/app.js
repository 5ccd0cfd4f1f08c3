// Stackhouse's built-in page: services → trace-profiling and eBPF tasks → segments/schedules →
// flame graph, diff of two selections, downloads; the continuous-profiling view of a service
// (continuous.js) and the network view of an instance (network.js). A client of the server's own
// /graphql.

import { ApiError, EXPORT_FORMATS, Q, exportUrl, fetchExport, gql, selectionInput } from './api.js';
import { zoneMinutes } from './chart.js';
import { ContinuousView } from './continuous.js';
import { NetworkView } from './network.js';
import {
  DIFF_COLOURS, FlameGraph, KIND_COLOURS, KIND_KERNEL, KIND_PLAIN, KIND_ROOT, KIND_USER, TreeBuilder,
  escapeHtml, kindOfStackType, syntheticProfile,
} from './flamegraph.js';

const $ = (sel, root = document) => root.querySelector(sel);
const h = escapeHtml;

const state = {
  services: [],
  serviceId: '',
  clockOffset: 0,        // server time − browser time (ms)
  zone: 0,               // the server's time zone, minutes east of UTC (getTimeInfo)
  traceTasks: [],
  ebpfTasks: [],
  open: null,            // {kind: 'trace'|'ebpf', task}
  traces: [],            // getProfileTaskSegments of the open trace task
  openTrace: -1,         // index into traces
  rangeChoice: null,     // {segmentId, start, end, label} chosen in the span list
  checkedTraces: new Set(),
  schedules: [],
  checkedSchedules: new Set(),
  ebpfRange: null,       // {start, end} ms
  shown: null,           // the selection the flame graph shows
  baseline: null,
  comparison: null,
  diff: null,
};

// ---------------------------------------------------------------------------------------------
// Formatting

const pad2 = (n) => String(n).padStart(2, '0');
function fmtTime(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '–';
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}
function fmtClock(ms) {
  const d = new Date(Number(ms));
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}
function toLocalInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}
function fromLocalInput(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}
const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
function fmtNum(v) {
  return numberFormat.format(v);
}
function fmtPct(share) {
  if (!Number.isFinite(share)) return '–';
  const p = share * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(1) : p.toFixed(2)}%`;
}
function fmtNs(ns) {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${fmtNum(ns)} ns`;
}
function fmtMs(ms) {
  return ms >= 10000 ? `${(ms / 1000).toFixed(2)} s` : `${fmtNum(ms)} ms`;
}
// A value of the given unit, with the unit.
function fmtValue(v, unit) {
  if (unit === 'ns' || unit === 'nanoseconds') return fmtNs(v);
  if (unit === 'ms' || unit === 'milliseconds') return fmtMs(v);
  const u = v === 1 && unit && unit.endsWith('s') ? unit.slice(0, -1).replace(/che$/, 'ch') : unit || '';
  return `${fmtNum(v)} ${u}`.trim();
}
function fmtDelta(delta) {
  const pp = delta * 100;
  const s = Math.abs(pp) >= 10 ? pp.toFixed(1) : Math.abs(pp) >= 0.01 ? pp.toFixed(2) : pp.toFixed(3);
  return `${pp > 0 ? '+' : ''}${s} pp`;
}
const kindName = (kind) => (kind === KIND_KERNEL ? 'kernel' : kind === KIND_USER ? 'user' : kind === KIND_ROOT ? '' : '');
const now = () => Date.now() + state.clockOffset;

// ---------------------------------------------------------------------------------------------
// Errors and status

function showError(err, context) {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof ApiError)) console.error(err);
  const box = $('#errors');
  const item = document.createElement('div');
  item.className = 'error';
  item.innerHTML = `<span class="error-text"></span><button type="button" class="close" aria-label="Dismiss">×</button>`;
  item.querySelector('.error-text').textContent = context ? `${context}: ${message}` : message;
  item.querySelector('.close').addEventListener('click', () => item.remove());
  box.append(item);
  while (box.children.length > 5) box.firstElementChild.remove();
}
function setStatus(text) {
  $('#status').textContent = text;
}
// Runs an async action, showing its failure on the page.
async function guarded(context, fn) {
  try {
    return await fn();
  } catch (err) {
    showError(err, context);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Flame views: a FlameGraph plus its toolbar (reset, search, orientation) and legend.

class FlameView {
  constructor(root, { describe, legend }) {
    this.root = root;
    root.innerHTML = `
      <div class="toolbar">
        <button type="button" class="reset" disabled>Reset zoom</button>
        <span class="zoom-info muted"></span>
        <span class="spacer"></span>
        <input type="search" class="search" placeholder="Search frames (text or /regex/)" aria-label="Search frames">
        <span class="match-info"></span>
        <span class="segmented" role="group" aria-label="Orientation">
          <button type="button" data-orientation="icicle" aria-pressed="true" title="Root at the top">Icicle</button>
          <button type="button" data-orientation="flame" aria-pressed="false" title="Root at the bottom">Flame</button>
        </span>
      </div>
      <div class="legend">${legend}</div>
      <div class="graph"><p class="empty muted">Nothing to show yet.</p></div>
      <p class="render-info muted"></p>`;
    this.graphBox = $('.graph', root);
    this.graph = new FlameGraph(this.graphBox, {
      describe,
      onZoom: () => this._zoomed(),
      onRender: (ms) => {
        $('.render-info', root).textContent = this.graph.tree
          ? `${fmtNum(this.graph.tree.n - 1)} frames, ${fmtNum(this.graph.visibleCount)} drawn${this.graph.thinRuns ? ` (+ ${fmtNum(this.graph.thinRuns)} runs of frames under 1 px)` : ''} in ${ms.toFixed(1)} ms`
          : '';
      },
    });
    this.resetButton = $('.reset', root);
    this.resetButton.addEventListener('click', () => this.graph.reset());
    this.searchInput = $('.search', root);
    let timer = 0;
    this.searchInput.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.search(this.searchInput.value), 120);
    });
    this.searchInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        clearTimeout(timer);
        this.search(this.searchInput.value);
      }
    });
    for (const b of root.querySelectorAll('[data-orientation]')) {
      b.addEventListener('click', () => {
        for (const o of root.querySelectorAll('[data-orientation]')) o.setAttribute('aria-pressed', String(o === b));
        this.graph.setOrientation(b.dataset.orientation);
        // The root is where the eye starts: top for icicle, bottom for flame.
        this.graphBox.scrollTop = b.dataset.orientation === 'flame' ? this.graphBox.scrollHeight : 0;
      });
    }
  }

  setTree(tree, options) {
    $('.empty', this.graphBox)?.remove();
    const ms = this.graph.setTree(tree, options);
    this.searchInput.value = '';
    $('.match-info', this.root).textContent = '';
    this._zoomed();
    return ms;
  }

  clear(message = 'Nothing to show yet.') {
    this.graph.clear();
    this.searchInput.value = '';
    $('.match-info', this.root).textContent = '';
    $('.zoom-info', this.root).textContent = '';
    $('.render-info', this.root).textContent = '';
    this.resetButton.disabled = true;
    let empty = $('.empty', this.graphBox);
    if (!empty) {
      empty = document.createElement('p');
      empty.className = 'empty muted';
      this.graphBox.prepend(empty);
    }
    empty.textContent = message;
  }

  search(text) {
    const info = $('.match-info', this.root);
    try {
      const r = this.graph.search(text.trim());
      info.textContent = r ? `${fmtNum(r.nodes)} frames (${fmtNum(r.symbols)} symbols) match · ${fmtPct(r.share)} of total` : '';
      info.classList.toggle('no-match', !!r && r.nodes === 0);
      return r;
    } catch (err) {
      info.textContent = err.message;
      info.classList.add('no-match');
      return null;
    }
  }

  _zoomed() {
    const g = this.graph;
    const tree = g.tree;
    this.resetButton.disabled = !tree || g.zoom === 0;
    const info = $('.zoom-info', this.root);
    if (!tree || g.zoom === 0) {
      info.textContent = tree ? 'Click a frame to zoom in.' : '';
      return;
    }
    info.textContent = `Zoomed into ${tree.name(g.zoom)} (${fmtPct(tree.total[g.zoom] / tree.total[0])} of total)`;
  }
}

const legendKinds = `
  <span><i style="background:${KIND_COLOURS.plain}"></i>user / Java frame</span>
  <span><i style="background:${KIND_COLOURS.kernel}"></i>kernel frame</span>
  <span><i style="background:${KIND_COLOURS.match}"></i>search match</span>`;
const legendDiff = `
  <span><i style="background:${DIFF_COLOURS.grew}"></i>grew (share of total)</span>
  <span><i style="background:${DIFF_COLOURS.same}"></i>unchanged</span>
  <span><i style="background:${DIFF_COLOURS.shrank}"></i>shrank</span>
  <span><i style="background:${KIND_COLOURS.match}"></i>search match</span>
  <span class="muted">width: mean share of the two</span>`;

// Tooltip of the single-profile flame graph. tree.mode: {kind: 'trace'} or {kind: 'ebpf', unit}.
function describeFrame(i, tree) {
  const total0 = tree.total[0] || 1;
  const kind = kindName(tree.kind[i]);
  let rows;
  if (tree.mode.kind === 'trace') {
    const m = tree.metrics;
    rows = `
      <tr><td>samples</td><td>${fmtNum(tree.total[i])} (${fmtPct(tree.total[i] / total0)})</td><td>${fmtNum(tree.self[i])} (${fmtPct(tree.self[i] / total0)})</td></tr>
      <tr><td>duration</td><td>${fmtMs(m.duration[i])}</td><td>${fmtMs(m.durationSelf[i])}</td></tr>`;
  } else {
    const unit = tree.mode.unit;
    const label = unit === 'ns' ? 'duration' : unit === 'switches' ? 'switch count' : 'sample count';
    rows = `<tr><td>${label}</td><td>${fmtValue(tree.total[i], unit)} (${fmtPct(tree.total[i] / total0)})</td><td>${fmtValue(tree.self[i], unit)} (${fmtPct(tree.self[i] / total0)})</td></tr>`;
  }
  return `<div class="tt-name">${h(tree.name(i))}</div>
    ${kind ? `<div class="tt-kind ${kind}">${kind} space</div>` : ''}
    <table><tr><th></th><th>total</th><th>self</th></tr>${rows}</table>`;
}

function describeDiffFrame(i, tree) {
  const m = tree.metrics;
  const unit = tree.mode.unit;
  const kind = kindName(tree.kind[i]);
  const delta = m.shareDelta[i];
  return `<div class="tt-name">${h(tree.name(i))}</div>
    ${kind ? `<div class="tt-kind ${kind}">${kind} space</div>` : ''}
    <table>
      <tr><th></th><th>total</th><th>share</th><th>self</th></tr>
      <tr><td>baseline</td><td>${fmtValue(m.baselineValue[i], unit)}</td><td>${fmtPct(m.baselineShare[i])}</td><td>${fmtValue(m.baselineSelf[i], unit)}</td></tr>
      <tr><td>comparison</td><td>${fmtValue(m.comparisonValue[i], unit)}</td><td>${fmtPct(m.comparisonShare[i])}</td><td>${fmtValue(m.comparisonSelf[i], unit)}</td></tr>
    </table>
    <div class="tt-delta ${delta > 0 ? 'grew' : delta < 0 ? 'shrank' : ''}">change in share: ${fmtDelta(delta)}</div>`;
}

const flameView = new FlameView($('#flame-view'), { describe: describeFrame, legend: legendKinds });
const diffView = new FlameView($('#diff-view'), { describe: describeDiffFrame, legend: legendDiff });

// ---------------------------------------------------------------------------------------------
// Analysis results → trees

// Adds the GraphQL trees (elements with id/parentId per tree) to a TreeBuilder; fill(builder, e)
// adds one element and returns its index. Ids are those of the server (breadth-first "1".."n"
// per tree: an array lookup) or any other unique strings (a Map).
function addTrees(builder, trees, fill) {
  for (const t of trees || []) {
    const elements = t.elements || [];
    const m = elements.length;
    builder.reserve(m);
    const base = builder.size;
    const byId = new Int32Array(m + 1).fill(-1);
    let dense = true;
    for (let k = 0; k < m; k++) {
      const e = elements[k];
      const index = fill(builder, e);
      const id = +e.id;
      if (dense && Number.isInteger(id) && id >= 1 && id <= m && byId[id] === -1) byId[id] = index;
      else dense = false;
    }
    let map = null;
    if (!dense) {
      map = new Map();
      for (let k = 0; k < m; k++) map.set(String(elements[k].id), base + k);
    }
    const parent = builder.parent;
    for (let k = 0; k < m; k++) {
      const pid = elements[k].parentId;
      let p = -1;
      if (map) {
        const v = map.get(String(pid));
        if (v !== undefined) p = v;
      } else {
        const x = +pid;
        if (x >= 1 && x <= m) p = byId[x];
      }
      parent[base + k] = p === base + k ? -1 : p;
    }
  }
}

export function traceTree(analysis) {
  const b = new TreeBuilder(['duration', 'durationSelf']);
  addTrees(b, analysis.trees, (builder, e) => {
    const i = builder.add(-1, e.codeSignature, KIND_PLAIN, +e.count);
    builder.metrics.duration[i] = +e.duration;
    builder.metrics.durationSelf[i] = +e.durationChildExcluded;
    return i;
  });
  const tree = b.build('all threads');
  tree.mode = { kind: 'trace', unit: 'samples' };
  return tree;
}

export function ebpfTree(analysis, unit) {
  const b = new TreeBuilder();
  addTrees(b, analysis.trees, (builder, e) => builder.add(-1, e.symbol, kindOfStackType(e.stackType), +e.dumpCount));
  const tree = b.build('all processes');
  tree.mode = { kind: 'ebpf', unit };
  return tree;
}

const DIFF_METRICS = ['baselineValue', 'comparisonValue', 'baselineShare', 'comparisonShare', 'shareDelta', 'baselineSelf', 'comparisonSelf'];
export function diffTree(diff) {
  const b = new TreeBuilder(DIFF_METRICS);
  addTrees(b, [{ elements: diff.nodes }], (builder, e) => {
    // Width: the mean of the two shares, so frames that exist on one side only stay visible.
    const i = builder.add(-1, e.name, kindOfStackType(e.stackType), ((+e.baselineShare || 0) + (+e.comparisonShare || 0)) / 2);
    for (const k of DIFF_METRICS) builder.metrics[k][i] = +e[k] || 0;
    return i;
  });
  const tree = b.build('all');
  const m = tree.metrics;
  m.baselineShare[0] = 1;
  m.comparisonShare[0] = 1;
  m.shareDelta[0] = 0;
  m.baselineValue[0] = Number(diff.baselineTotal) || m.baselineValue[0];
  m.comparisonValue[0] = Number(diff.comparisonTotal) || m.comparisonValue[0];
  m.baselineSelf[0] = 0;
  m.comparisonSelf[0] = 0;
  tree.mode = { kind: 'diff', unit: diff.unit };
  return tree;
}

function ebpfUnit(targetType, aggregateType) {
  if (targetType === 'OFF_CPU') return aggregateType === 'DURATION' ? 'ns' : 'switches';
  return 'samples';
}

// ---------------------------------------------------------------------------------------------
// Services

async function loadServices() {
  const [data, time] = await Promise.all([gql(Q.services), gql(Q.timeInfo).catch(() => null)]);
  const ts = time?.getTimeInfo?.currentTimestamp;
  if (ts) state.clockOffset = Number(ts) - Date.now();
  if (time?.getTimeInfo) state.zone = zoneMinutes(time.getTimeInfo.timezone);
  state.services = (data.services || []).slice().sort((a, b) => a.name.localeCompare(b.name));
  const select = $('#service-select');
  const wanted = new URLSearchParams(location.hash.slice(1)).get('service') || state.serviceId;
  select.innerHTML = state.services.length
    ? `<option value="">— pick a service —</option>` + state.services.map((s) => `<option value="${h(s.id)}">${h(s.name)}</option>`).join('')
    : `<option value="">no services yet</option>`;
  setStatus(state.services.length ? `${state.services.length} service${state.services.length > 1 ? 's' : ''}` : 'No service has reported yet: start an agent (or the simulator).');
  const pick = state.services.find((s) => s.id === wanted) || (state.services.length === 1 ? state.services[0] : null);
  if (pick) {
    select.value = pick.id;
    await selectService(pick.id);
  }
}

async function selectService(id) {
  state.serviceId = id;
  state.open = null;
  $('#picker').hidden = true;
  const params = new URLSearchParams(location.hash.slice(1));
  if (id) params.set('service', id);
  else params.delete('service');
  history.replaceState(null, '', `#${params}`);
  $('#trace-task-list').innerHTML = '';
  $('#ebpf-task-list').innerHTML = '';
  if (!id) return;
  await Promise.all([
    guarded('Trace-profiling tasks', loadTraceTasks),
    guarded('eBPF tasks', loadEbpfTasks),
    guarded('Endpoints', loadEndpoints),
  ]);
  if ($('#ebpf-create').open) guarded('eBPF task data', loadEbpfPrepare);
  if (!$('#continuous-panel').hidden) guarded('Continuous profiling', openContinuous);
  if (!$('#network-panel').hidden) guarded('Network profiling', openNetwork);
}

async function loadEndpoints() {
  const data = await gql(Q.endpoints, { serviceId: state.serviceId, keyword: '', limit: 50 });
  $('#endpoint-list').innerHTML = (data.pods || []).map((e) => `<option value="${h(e.value)}">`).join('');
}

// ---------------------------------------------------------------------------------------------
// Trace-profiling tasks

// A task whose start is less than this ahead of the page's estimate of the server clock is
// running (the estimate is off by the request's latency).
const CLOCK_SLACK_MS = 2000;

function traceTaskState(task) {
  const t = now();
  const end = Number(task.startTime) + task.duration * 60000;
  if (t + CLOCK_SLACK_MS < Number(task.startTime)) return ['scheduled', 'scheduled'];
  if (t < end) return ['running', 'running'];
  return ['finished', 'finished'];
}

async function loadTraceTasks() {
  const data = await gql(Q.profileTasks, { serviceId: state.serviceId });
  state.traceTasks = (data.taskList || []).slice().sort((a, b) => Number(b.startTime) - Number(a.startTime));
  renderTraceTasks();
}

function renderTraceTasks() {
  const list = $('#trace-task-list');
  if (!state.traceTasks.length) {
    list.innerHTML = `<li class="muted empty-item">No trace-profiling task for this service.</li>`;
    return;
  }
  list.innerHTML = '';
  for (const task of state.traceTasks) {
    const [label, cls] = traceTaskState(task);
    const logs = (task.logs || []).slice().sort((a, b) => Number(a.operationTime) - Number(b.operationTime));
    const notified = new Set(logs.filter((l) => l.operationType === 'NOTIFIED').map((l) => l.instanceName)).size;
    const finished = new Set(logs.filter((l) => l.operationType === 'EXECUTION_FINISHED').map((l) => l.instanceName)).size;
    const li = document.createElement('li');
    li.className = 'task';
    li.dataset.taskId = task.id;
    if (state.open?.kind === 'trace' && state.open.task.id === task.id) li.classList.add('selected');
    li.innerHTML = `
      <button type="button" class="task-open">
        <span class="task-title">${h(task.endpointName)}</span>
        <span class="state ${cls}">${label}</span>
        <span class="task-meta">${fmtTime(task.startTime)} · ${task.duration} min · threshold ${task.minDurationThreshold} ms · every ${task.dumpPeriod} ms · ≤ ${task.maxSamplingCount} segments</span>
      </button>
      <details class="logs"><summary>Logs: ${notified} instance${notified === 1 ? '' : 's'} notified, ${finished} finished</summary>
        ${logs.length ? `<ul>${logs.map((l) => `<li><time>${fmtTime(l.operationTime)}</time> ${h(l.instanceName)} <b>${h(l.operationType)}</b></li>`).join('')}</ul>` : '<p class="muted">No agent has picked the task up yet.</p>'}
      </details>`;
    li.stateOf = () => traceTaskState(task);
    $('.task-open', li).addEventListener('click', () => guarded('Segments', () => openTraceTask(task)));
    list.append(li);
  }
}

async function createTraceTask(form) {
  const f = new FormData(form);
  const message = $('#trace-form-message');
  message.className = 'form-message';
  message.textContent = 'Creating…';
  const int = (name) => {
    const v = Number.parseInt(f.get(name), 10);
    return Number.isFinite(v) ? v : null;
  };
  const creationRequest = {
    serviceId: state.serviceId,
    endpointName: String(f.get('endpointName') || ''),
    duration: int('duration'),
    minDurationThreshold: int('minDurationThreshold'),
    dumpPeriod: int('dumpPeriod'),
    maxSamplingCount: int('maxSamplingCount'),
  };
  const start = fromLocalInput(f.get('startTime'));
  if (start !== null) creationRequest.startTime = start;
  try {
    if (!state.serviceId) throw new ApiError('pick a service first');
    const data = await gql(Q.createProfileTask, { creationRequest });
    if (data.task?.errorReason) {
      message.className = 'form-message refused';
      message.textContent = `Refused: ${data.task.errorReason}`;
      return;
    }
    await loadTraceTasks();
    message.className = 'form-message ok';
    message.textContent = `Created task ${data.task?.id ?? ''}`;
  } catch (err) {
    message.className = 'form-message refused';
    message.textContent = err.message;
  }
}

// ---------------------------------------------------------------------------------------------
// eBPF tasks

function ebpfTaskState(task) {
  const t = now();
  const start = Number(task.taskStartTime);
  const end = start + Number(task.fixedTriggerDuration || 0) * 1000;
  if (t + CLOCK_SLACK_MS < start) return ['scheduled', 'scheduled'];
  if (t < end) return ['running', 'running'];
  return ['finished', 'finished'];
}

async function loadEbpfTasks() {
  const data = await gql(Q.ebpfTasks, { serviceId: state.serviceId, targets: ['ON_CPU', 'OFF_CPU'], triggerType: 'FIXED_TIME' });
  state.ebpfTasks = (data.queryEBPFTasks || []).slice().sort((a, b) => Number(b.taskStartTime) - Number(a.taskStartTime));
  renderEbpfTasks();
}

function renderEbpfTasks() {
  const list = $('#ebpf-task-list');
  if (!state.ebpfTasks.length) {
    list.innerHTML = `<li class="muted empty-item">No eBPF profiling task for this service.</li>`;
    return;
  }
  list.innerHTML = '';
  for (const task of state.ebpfTasks) {
    const [label, cls] = ebpfTaskState(task);
    const li = document.createElement('li');
    li.className = 'task';
    li.dataset.taskId = task.taskId;
    if (state.open?.kind === 'ebpf' && state.open.task.taskId === task.taskId) li.classList.add('selected');
    const labels = task.processLabels?.length ? task.processLabels.join(' ') : 'all processes';
    li.innerHTML = `
      <button type="button" class="task-open">
        <span class="task-title">${h(task.targetType)}: ${h(labels)}</span>
        <span class="state ${cls}">${label}</span>
        <span class="task-meta">${fmtTime(task.taskStartTime)} · ${fmtNum(Number(task.fixedTriggerDuration || 0))} s · created ${fmtTime(task.createTime)}</span>
      </button>`;
    li.stateOf = () => ebpfTaskState(task);
    $('.task-open', li).addEventListener('click', () => guarded('Schedules', () => openEbpfTask(task)));
    list.append(li);
  }
}

async function loadEbpfPrepare() {
  const box = $('#ebpf-labels');
  const note = $('#ebpf-prepare');
  if (!state.serviceId) {
    note.textContent = 'Pick a service first.';
    return;
  }
  const data = await gql(Q.createTaskData, { serviceId: state.serviceId });
  const prep = data.createTaskData;
  note.textContent = prep.couldProfiling
    ? 'Rover reports processes of this service that can be profiled.'
    : 'No process of this service can be profiled yet (no SkyWalking Rover has reported one); the task waits for them.';
  note.className = prep.couldProfiling ? 'muted' : 'warn';
  box.querySelectorAll('label').forEach((l) => l.remove());
  for (const label of prep.processLabels || []) {
    const el = document.createElement('label');
    el.className = 'check';
    el.innerHTML = `<input type="checkbox" name="processLabels" value="${h(label)}"> ${h(label)}`;
    box.append(el);
  }
}

async function createEbpfTask(form) {
  const f = new FormData(form);
  const message = $('#ebpf-form-message');
  message.className = 'form-message';
  message.textContent = 'Creating…';
  const duration = Number.parseInt(f.get('duration'), 10);
  const request = {
    serviceId: state.serviceId,
    processLabels: f.getAll('processLabels').map(String),
    startTime: fromLocalInput(f.get('startTime')) ?? now(),
    duration: Number.isFinite(duration) ? duration : null,
    targetType: String(f.get('targetType')),
  };
  try {
    if (!state.serviceId) throw new ApiError('pick a service first');
    const data = await gql(Q.createEbpfTask, { request });
    const r = data.createTaskData;
    if (!r?.status || r.errorReason) {
      message.className = 'form-message refused';
      message.textContent = `Refused: ${r?.errorReason || 'the server did not create the task'}`;
      return;
    }
    await loadEbpfTasks();
    message.className = 'form-message ok';
    message.textContent = `Created task ${r.id ?? ''}`;
  } catch (err) {
    message.className = 'form-message refused';
    message.textContent = err.message;
  }
}

// ---------------------------------------------------------------------------------------------
// The picker: a trace task's traces and spans, or an eBPF task's schedules

function markOpenTask() {
  for (const li of document.querySelectorAll('.task-list .task')) {
    const open = state.open && li.dataset.taskId === (state.open.kind === 'trace' ? state.open.task.id : state.open.task.taskId);
    li.classList.toggle('selected', !!open);
  }
}

async function openTraceTask(task) {
  const sameTask = state.open?.kind === 'trace' && state.open.task.id === task.id;
  state.open = { kind: 'trace', task };
  markOpenTask();
  $('#picker').hidden = false;
  $('#trace-picker').hidden = false;
  $('#ebpf-picker').hidden = true;
  $('#picker-title').textContent = `Profiled traces of ${task.endpointName}`;
  const data = await gql(Q.segments, { taskID: task.id });
  const keepTrace = sameTask && state.openTrace >= 0 ? state.traces[state.openTrace]?.traceId : null;
  state.traces = data.segmentList || [];
  if (!sameTask) {
    state.checkedTraces = new Set();
    state.rangeChoice = null;
  }
  state.openTrace = keepTrace ? state.traces.findIndex((t) => t.traceId === keepTrace) : -1;
  renderTraces();
  if (state.openTrace < 0) {
    $('#span-box').innerHTML = `<p class="muted">${state.traces.length ? 'Click a trace to see its spans and choose a time range.' : 'No profiled trace yet: the agents dump requests slower than the threshold while the task runs. Refresh in a few seconds.'}</p>`;
  } else {
    renderSpans();
  }
  updateSelection();
}

// The segments of a trace that carry profiling data (all of them when none is marked).
function profiledSegments(trace) {
  const bySegment = new Map();
  for (const s of trace.spans || []) {
    const seg = bySegment.get(s.segmentId) || { segmentId: s.segmentId, start: Infinity, end: -Infinity, profiled: false };
    seg.start = Math.min(seg.start, Number(s.startTime));
    seg.end = Math.max(seg.end, Number(s.endTime));
    seg.profiled ||= !!s.profiled;
    bySegment.set(s.segmentId, seg);
  }
  const all = [...bySegment.values()];
  const marked = all.filter((s) => s.profiled);
  return marked.length ? marked : all;
}

function renderTraces() {
  const body = $('#trace-table tbody');
  body.innerHTML = '';
  if (!state.traces.length) {
    body.innerHTML = `<tr><td colspan="5" class="muted">No profiled trace yet.</td></tr>`;
  }
  state.traces.forEach((t, k) => {
    const tr = document.createElement('tr');
    tr.className = 'trace-row';
    tr.dataset.index = String(k);
    tr.classList.toggle('selected', k === state.openTrace);
    tr.innerHTML = `
      <td><input type="checkbox" ${state.checkedTraces.has(k) ? 'checked' : ''} aria-label="Select trace ${h(t.traceId)}"></td>
      <td title="${h(t.traceId)}">${h((t.endpointNames || [])[0] || '–')}</td>
      <td class="num">${fmtNum(t.duration)} ms</td>
      <td class="time">${fmtTime(Number(t.start))}</td>
      <td class="ellipsis" title="${h(t.instanceName)}">${h(t.instanceName)}</td>`;
    const box = $('input', tr);
    box.addEventListener('click', (e) => e.stopPropagation());
    box.addEventListener('change', () => {
      if (box.checked) state.checkedTraces.add(k);
      else state.checkedTraces.delete(k);
      $('#trace-check-all').checked = state.checkedTraces.size === state.traces.length && state.traces.length > 0;
      updateSelection();
    });
    tr.addEventListener('click', () => {
      state.openTrace = k;
      state.rangeChoice = null;
      for (const r of body.querySelectorAll('tr')) r.classList.toggle('selected', r === tr);
      renderSpans();
      updateSelection();
    });
    body.append(tr);
  });
  $('#trace-check-all').checked = state.checkedTraces.size === state.traces.length && state.traces.length > 0;
}

function renderSpans() {
  const trace = state.traces[state.openTrace];
  const box = $('#span-box');
  if (!trace) return;
  const segments = profiledSegments(trace);
  const spans = (trace.spans || []).slice();
  // Depth of each span within its segment (parentSpanId −1 = the segment's first span).
  const key = (s) => `${s.segmentId}/${s.spanId}`;
  const byKey = new Map(spans.map((s) => [key(s), s]));
  const depthOf = (s) => {
    let d = 0;
    for (let p = byKey.get(`${s.segmentId}/${s.parentSpanId}`); p && d < 50; p = byKey.get(`${p.segmentId}/${p.parentSpanId}`)) d++;
    return d;
  };
  spans.sort((a, b) => Number(a.startTime) - Number(b.startTime) || a.spanId - b.spanId);
  if (!state.rangeChoice) {
    const s = segments[0];
    state.rangeChoice = s ? { segmentId: s.segmentId, start: s.start, end: s.end, label: 'whole segment' } : null;
  }
  const choice = state.rangeChoice;
  const radio = (id, segmentId, start, end, label, html) => {
    const checked = choice && choice.segmentId === segmentId && choice.start === start && choice.end === end && choice.label === label;
    return `<label class="range-option" data-id="${h(id)}"><input type="radio" name="range" ${checked ? 'checked' : ''}
      data-segment="${h(segmentId)}" data-start="${start}" data-end="${end}" data-label="${h(label)}"> ${html}</label>`;
  };
  let html = `<p class="muted">Trace ${h(trace.traceId)} · ${h(trace.instanceName)}</p><div class="ranges">`;
  for (const s of segments) {
    html += radio(`seg-${s.segmentId}`, s.segmentId, s.start, s.end, 'whole segment',
      `<b>Whole segment</b> <span class="muted">${fmtClock(s.start)}–${fmtClock(s.end)} (${fmtNum(s.end - s.start)} ms)</span>`);
  }
  for (const s of spans) {
    const label = `span #${s.spanId}`;
    html += radio(`span-${s.segmentId}-${s.spanId}`, s.segmentId, Number(s.startTime), Number(s.endTime), label,
      `<span class="span-line" style="padding-left:${depthOf(s) * 14}px"><span class="span-type">${h(s.type)}</span> ${h(s.endpointName || s.peer || '')}
       <span class="muted">${fmtNum(Number(s.endTime) - Number(s.startTime))} ms${s.component ? ` · ${h(s.component)}` : ''}</span>${s.profiled ? ' <span class="badge">profiled</span>' : ''}${s.isError ? ' <span class="badge error">error</span>' : ''}</span>`);
  }
  html += '</div>';
  box.innerHTML = html;
  for (const input of box.querySelectorAll('input[type=radio]')) {
    input.addEventListener('change', () => {
      state.rangeChoice = { segmentId: input.dataset.segment, start: Number(input.dataset.start), end: Number(input.dataset.end), label: input.dataset.label };
      state.checkedTraces.clear();
      renderTraces();
      updateSelection();
    });
  }
}

async function openEbpfTask(task) {
  const sameTask = state.open?.kind === 'ebpf' && state.open.task.taskId === task.taskId;
  state.open = { kind: 'ebpf', task };
  markOpenTask();
  $('#picker').hidden = false;
  $('#trace-picker').hidden = true;
  $('#ebpf-picker').hidden = false;
  const labels = task.triggerType === 'CONTINUOUS_PROFILING'
    ? `triggered on ${task.processName} by ${[...new Set((task.continuousProfilingCauses || []).map((c) => c.type))].join(', ') || 'its policy'}`
    : task.processLabels?.length ? task.processLabels.join(' ') : 'all processes';
  $('#picker-title').textContent = `Schedules of the ${task.targetType} task (${labels})`;
  $('#aggregate-label').hidden = task.targetType !== 'OFF_CPU';
  if (task.targetType !== 'OFF_CPU') $('#aggregate-type').value = 'COUNT';
  const data = await gql(Q.schedules, { taskId: task.taskId });
  // Refreshing the open task keeps the choice; schedules that are new are selected.
  const known = new Set(sameTask ? state.schedules.map((s) => s.scheduleId) : []);
  const checked = sameTask ? state.checkedSchedules : new Set();
  state.schedules = (data.eBPFSchedules || []).slice().sort((a, b) => Number(a.startTime) - Number(b.startTime));
  state.checkedSchedules = new Set(state.schedules.map((s) => s.scheduleId).filter((id) => checked.has(id) || !known.has(id)));
  if (!sameTask) state.ebpfRange = null;
  renderSchedules();
  if (!state.ebpfRange) resetEbpfRange();
  updateSelection();
}

function renderSchedules() {
  const body = $('#schedule-table tbody');
  body.innerHTML = '';
  if (!state.schedules.length) {
    body.innerHTML = `<tr><td colspan="6" class="muted">No schedule yet: the task starts when SkyWalking Rover picks it up for a process of this service.</td></tr>`;
  }
  for (const s of state.schedules) {
    const tr = document.createElement('tr');
    tr.className = 'schedule-row';
    const p = s.process || {};
    tr.innerHTML = `
      <td><input type="checkbox" ${state.checkedSchedules.has(s.scheduleId) ? 'checked' : ''} aria-label="Select schedule"></td>
      <td class="ellipsis" title="${h(p.name || '')}">${h(p.name || '–')}</td>
      <td class="ellipsis" title="${h(p.instanceName || '')}">${h(p.instanceName || '–')}</td>
      <td>${h((p.labels || []).join(' '))}</td>
      <td class="time">${fmtTime(s.startTime)}</td><td class="time">${fmtTime(s.endTime)}</td>`;
    $('input', tr).addEventListener('change', (e) => {
      if (e.target.checked) state.checkedSchedules.add(s.scheduleId);
      else state.checkedSchedules.delete(s.scheduleId);
      $('#schedule-check-all').checked = state.checkedSchedules.size === state.schedules.length;
      resetEbpfRange();
      updateSelection();
    });
    body.append(tr);
  }
  $('#schedule-check-all').checked = state.schedules.length > 0 && state.checkedSchedules.size === state.schedules.length;
}

function resetEbpfRange() {
  const chosen = state.schedules.filter((s) => state.checkedSchedules.has(s.scheduleId));
  if (!chosen.length) {
    state.ebpfRange = null;
    $('#ebpf-from').value = '';
    $('#ebpf-to').value = '';
    return;
  }
  const start = Math.min(...chosen.map((s) => Number(s.startTime)));
  const end = Math.max(...chosen.map((s) => Number(s.endTime)));
  state.ebpfRange = { start, end };
  $('#ebpf-from').value = toLocalInput(start);
  $('#ebpf-to').value = toLocalInput(end);
}

// The selection the picker describes now, or null.
function currentSelection() {
  if (!state.open) return null;
  if (state.open.kind === 'trace') {
    const endpoint = state.open.task.endpointName;
    if (state.checkedTraces.size) {
      const queries = [];
      for (const k of [...state.checkedTraces].sort((a, b) => a - b)) {
        for (const s of profiledSegments(state.traces[k])) queries.push({ segmentId: s.segmentId, timeRange: { start: s.start, end: s.end } });
      }
      const all = state.checkedTraces.size === state.traces.length;
      return {
        kind: 'trace',
        queries,
        label: all ? `${endpoint}: whole task (${state.traces.length} traces)` : `${endpoint}: ${state.checkedTraces.size} trace${state.checkedTraces.size > 1 ? 's' : ''}`,
      };
    }
    const trace = state.traces[state.openTrace];
    const c = state.rangeChoice;
    if (!trace || !c) return null;
    return {
      kind: 'trace',
      queries: [{ segmentId: c.segmentId, timeRange: { start: c.start, end: c.end } }],
      label: `${endpoint}: trace of ${fmtClock(Number(trace.start))} (${fmtNum(trace.duration)} ms), ${c.label} ${fmtClock(c.start)}–${fmtClock(c.end)}`,
    };
  }
  const ids = state.schedules.filter((s) => state.checkedSchedules.has(s.scheduleId)).map((s) => s.scheduleId);
  if (!ids.length || !state.ebpfRange) return null;
  const task = state.open.task;
  const aggregateType = task.targetType === 'OFF_CPU' ? $('#aggregate-type').value : 'COUNT';
  const { start, end } = state.ebpfRange;
  return {
    kind: 'ebpf',
    scheduleIdList: ids,
    timeRanges: [{ start, end }],
    aggregateType,
    targetType: task.targetType,
    label: `${task.targetType} ${ids.length} schedule${ids.length > 1 ? 's' : ''}, ${fmtTime(start)}–${fmtClock(end)}${task.targetType === 'OFF_CPU' ? `, ${aggregateType}` : ''}`,
  };
}

function updateSelection() {
  const sel = currentSelection();
  $('#selection-summary').textContent = sel ? `Selection: ${sel.label}` : 'Nothing selected.';
  for (const id of ['#analyze-button', '#set-baseline', '#set-comparison']) $(id).disabled = !sel;
}

// ---------------------------------------------------------------------------------------------
// Flame graph of a selection

async function analyze(sel) {
  if (!sel) return;
  selectTab('flame');
  $('#flame-title').textContent = sel.label;
  const tip = $('#flame-tip');
  tip.hidden = true;
  flameView.clear('Loading…');
  state.shown = sel;
  updateDownloads();
  let tree;
  if (sel.kind === 'trace') {
    const data = await gql(Q.profileAnalyze, { queries: sel.queries });
    if (state.shown !== sel) return;
    if (data.analyze.tip) {
      tip.textContent = data.analyze.tip;
      tip.hidden = false;
    }
    tree = traceTree(data.analyze);
  } else {
    const data = await gql(Q.ebpfAnalyze, { scheduleIdList: sel.scheduleIdList, timeRanges: sel.timeRanges, aggregateType: sel.aggregateType });
    if (state.shown !== sel) return;
    const r = data.analysisEBPFResult;
    if (r.tip) {
      tip.textContent = r.tip;
      tip.hidden = false;
    }
    tree = ebpfTree(r, ebpfUnit(sel.targetType, sel.aggregateType));
  }
  if (tree.n <= 1) {
    flameView.clear('No samples in this selection.');
    renderTopFrames(null);
    return;
  }
  flameView.setTree(tree);
  renderTopFrames(tree);
}

function renderTopFrames(tree) {
  const table = $('#top-frames');
  const head = $('thead', table);
  const body = $('tbody', table);
  if (!tree) {
    head.innerHTML = '';
    body.innerHTML = '';
    return;
  }
  const trace = tree.mode.kind === 'trace';
  const unit = tree.mode.unit;
  const total0 = tree.total[0] || 1;
  const rows = tree.topFrames(50, trace ? tree.metrics.durationSelf : null);
  head.innerHTML = `<tr><th>#</th><th>Frame</th><th class="num">Self</th><th class="num">Self %</th><th class="num">Total</th><th class="num">Total %</th>${trace ? '<th class="num">Self duration</th>' : ''}</tr>`;
  body.innerHTML = rows
    .map((r, k) => `<tr class="frame-row" data-name="${h(r.name)}">
      <td>${k + 1}</td>
      <td class="frame-name"><i class="swatch ${kindName(r.kind) || 'plain'}"></i>${h(r.name)}</td>
      <td class="num">${fmtValue(r.self, unit)}</td><td class="num">${fmtPct(r.self / total0)}</td>
      <td class="num">${fmtValue(r.total, unit)}</td><td class="num">${fmtPct(r.total / total0)}</td>
      ${trace ? `<td class="num">${fmtMs(r.metricSelf)}</td>` : ''}</tr>`)
    .join('');
  for (const tr of body.querySelectorAll('tr')) {
    tr.title = 'Search this frame in the graph';
    tr.addEventListener('click', () => {
      flameView.searchInput.value = tr.dataset.name;
      flameView.search(tr.dataset.name);
    });
  }
}

function updateDownloads() {
  const sel = state.shown;
  $('#downloads').hidden = !sel;
  if (!sel) return;
  for (const { format, ext } of EXPORT_FORMATS) {
    const a = $(`#download-${format}`);
    a.href = exportUrl(sel, format);
    a.download = `stackhouse-${sel.kind}.${ext}`;
  }
}

// Downloads go through fetch so that a refusal (HTTP 4xx text) is shown on the page.
async function download(a) {
  const blob = await fetchExport(a.getAttribute('href'));
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = a.download;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---------------------------------------------------------------------------------------------
// Diff

// Marks tab `name` selected and shows its panel only.
function showPanel(name) {
  for (const b of document.querySelectorAll('.tabs [data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const p of document.querySelectorAll('[data-panel]')) p.hidden = p.dataset.panel !== name;
}

function selectTab(name) {
  showPanel(name);
  if (name === 'continuous') {
    guarded('Continuous profiling', openContinuous);
    return;
  }
  if (name === 'network') {
    guarded('Network profiling', openNetwork);
    return;
  }
  // A canvas laid out while hidden has no width: draw again now that it is visible.
  const view = name === 'diff' ? diffView : flameView;
  if (view.graph.tree) view.graph.render();
}

function renderDiffPick() {
  $('#baseline-label').textContent = state.baseline ? state.baseline.label : 'not set';
  $('#comparison-label').textContent = state.comparison ? state.comparison.label : 'not set';
  $('#compare-button').disabled = !(state.baseline && state.comparison);
  const set = (state.baseline ? 1 : 0) + (state.comparison ? 1 : 0);
  $('#diff-help').hidden = set === 2;
  $('#tab-diff').textContent = set ? `Diff (${set}/2 selected)` : 'Diff';
  $('#swap-button').disabled = !(state.baseline || state.comparison);
}

async function compare() {
  const { baseline, comparison } = state;
  if (!baseline || !comparison) return;
  selectTab('diff');
  $('#diff-summary').textContent = 'Comparing…';
  diffView.clear('Loading…');
  renderDiffTables(null);
  try {
    const data = await gql(Q.diff, { baseline: selectionInput(baseline), comparison: selectionInput(comparison) });
    const diff = data.diff;
    state.diff = diff;
    const unit = diff.unit;
    $('#diff-summary').textContent = `Baseline total ${fmtValue(Number(diff.baselineTotal), unit)}, comparison total ${fmtValue(Number(diff.comparisonTotal), unit)} · ${fmtNum(diff.nodes.length)} frames`;
    if (!diff.nodes.length) {
      diffView.clear('Both selections are empty.');
      return;
    }
    const tree = diffTree(diff);
    diffView.setTree(tree, { colourMode: 'diff', diffDelta: tree.metrics.shareDelta });
    renderDiffTables(diff);
  } catch (err) {
    $('#diff-summary').textContent = '';
    diffView.clear('The diff failed (see the message above).');
    throw err;
  }
}

function renderDiffTables(diff) {
  // The server ranks gains and losses by the change in self share (a frame's own time).
  const fill = (table, rows) => {
    const head = $('thead', table);
    const body = $('tbody', table);
    if (!rows) {
      head.innerHTML = '';
      body.innerHTML = '';
      return;
    }
    const unit = diff.unit;
    const bt = Number(diff.baselineTotal) || 0;
    const ct = Number(diff.comparisonTotal) || 0;
    head.innerHTML = `<tr><th>Frame</th><th class="num" title="self value as a share of the baseline total">Baseline self</th><th class="num" title="self value as a share of the comparison total">Comparison self</th><th class="num">Change</th></tr>`;
    body.innerHTML = rows.length
      ? rows.map((r) => {
          const bs = bt > 0 ? Number(r.baselineSelf) / bt : 0;
          const cs = ct > 0 ? Number(r.comparisonSelf) / ct : 0;
          const d = cs - bs;
          return `<tr class="diff-row" data-name="${h(r.name)}">
          <td class="frame-name" title="${h(r.name)}">${h(r.name)}</td>
          <td class="num" title="${h(fmtValue(Number(r.baselineSelf), unit))}">${fmtPct(bs)}</td>
          <td class="num" title="${h(fmtValue(Number(r.comparisonSelf), unit))}">${fmtPct(cs)}</td>
          <td class="num ${d > 0 ? 'grew' : d < 0 ? 'shrank' : ''}">${fmtDelta(d)}</td></tr>`;
        }).join('')
      : `<tr><td colspan="4" class="muted">none</td></tr>`;
    for (const tr of body.querySelectorAll('tr[data-name]')) {
      tr.addEventListener('click', () => {
        diffView.searchInput.value = tr.dataset.name;
        diffView.search(tr.dataset.name);
      });
    }
  };
  fill($('#diff-gains'), diff ? diff.topGains || [] : null);
  fill($('#diff-losses'), diff ? diff.topLosses || [] : null);
}

// ---------------------------------------------------------------------------------------------
// Continuous profiling (continuous.js): a triggered task's flame graph opens through the eBPF
// picker, so that its schedules, time range and downloads work as for any eBPF task.

const continuousView = new ContinuousView($('#continuous-panel'), {
  now,
  zone: () => state.zone,
  fmtTime,
  guarded,
  openFlame: async (task) => {
    await openEbpfTask(task);
    await analyze(currentSelection());
  },
  openTopology: async (task) => {
    showPanel('network');
    await openNetwork();
    await networkView.focusTask(task);
  },
});

async function openContinuous() {
  const service = state.services.find((s) => s.id === state.serviceId);
  $('#cp-no-service').hidden = !!service;
  $('#cp-body').hidden = !service;
  if (!service) return;
  if (continuousView.serviceId === service.id) await continuousView.load();
  else await continuousView.open(service.id, service.name);
}

// Network profiling of an instance (network.js).

const networkView = new NetworkView($('#network-panel'), { now, zone: () => state.zone, fmtTime, guarded });

async function openNetwork() {
  const service = state.services.find((s) => s.id === state.serviceId);
  $('#net-no-service').hidden = !!service;
  $('#net-body').hidden = !service;
  if (!service) return;
  if (networkView.service?.id === service.id) await networkView.selectInstance(networkView.instanceId);
  else await networkView.open(service);
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $('#service-select').addEventListener('change', (e) => guarded('Service', () => selectService(e.target.value)));
  $('#reload-button').addEventListener('click', () => guarded('Services', loadServices));
  $('#trace-form').addEventListener('submit', (e) => {
    e.preventDefault();
    createTraceTask(e.target);
  });
  $('#ebpf-form').addEventListener('submit', (e) => {
    e.preventDefault();
    createEbpfTask(e.target);
  });
  $('#ebpf-create').addEventListener('toggle', (e) => {
    if (e.target.open) guarded('eBPF task data', loadEbpfPrepare);
  });
  $('#picker-refresh').addEventListener('click', () => guarded('Refresh', async () => {
    if (state.open?.kind === 'trace') {
      await loadTraceTasks();
      const task = state.traceTasks.find((t) => t.id === state.open.task.id) || state.open.task;
      await openTraceTask(task);
    } else if (state.open?.kind === 'ebpf') {
      await loadEbpfTasks();
      await openEbpfTask(state.open.task);
    }
  }));
  $('#trace-check-all').addEventListener('change', (e) => {
    state.checkedTraces = e.target.checked ? new Set(state.traces.map((_, k) => k)) : new Set();
    renderTraces();
    updateSelection();
  });
  $('#schedule-check-all').addEventListener('change', (e) => {
    state.checkedSchedules = e.target.checked ? new Set(state.schedules.map((s) => s.scheduleId)) : new Set();
    renderSchedules();
    resetEbpfRange();
    updateSelection();
  });
  const rangeInput = () => {
    const start = fromLocalInput($('#ebpf-from').value);
    const end = fromLocalInput($('#ebpf-to').value);
    // Inputs have second precision: the end second is included whole.
    state.ebpfRange = start !== null && end !== null ? { start, end: end + 999 } : null;
    updateSelection();
  };
  for (const id of ['#ebpf-from', '#ebpf-to']) {
    $(id).addEventListener('change', rangeInput);
    $(id).addEventListener('input', rangeInput);
  }
  $('#ebpf-range-reset').addEventListener('click', () => {
    resetEbpfRange();
    updateSelection();
  });
  $('#aggregate-type').addEventListener('change', updateSelection);
  $('#analyze-button').addEventListener('click', () => guarded('Flame graph', () => analyze(currentSelection())));
  $('#set-baseline').addEventListener('click', () => {
    state.baseline = currentSelection();
    renderDiffPick();
  });
  $('#set-comparison').addEventListener('click', () => {
    state.comparison = currentSelection();
    renderDiffPick();
  });
  $('#swap-button').addEventListener('click', () => {
    [state.baseline, state.comparison] = [state.comparison, state.baseline];
    renderDiffPick();
  });
  $('#compare-button').addEventListener('click', () => guarded('Diff', compare));
  for (const b of document.querySelectorAll('.tabs [data-tab]')) b.addEventListener('click', () => selectTab(b.dataset.tab));
  for (const a of document.querySelectorAll('#downloads a')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      guarded(`Download ${a.dataset.format}`, () => download(a));
    });
  }
  renderDiffPick();
  updateSelection();
  // Task states follow the clock (scheduled → running → finished) without a reload.
  setInterval(() => {
    for (const li of document.querySelectorAll('.task-list .task')) {
      if (!li.stateOf) continue;
      const [label, cls] = li.stateOf();
      const el = $('.state', li);
      if (el.textContent !== label) {
        el.textContent = label;
        el.className = `state ${cls}`;
      }
    }
  }, 5000);
}

// ---------------------------------------------------------------------------------------------
// Hooks for the browser test and for measuring (window.stackhouse)

function frameRect(view, name) {
  const g = view.graph;
  const tree = g.tree;
  if (!tree) return null;
  // The widest drawn frame whose name contains `name`.
  let best = -1;
  for (let i = 1; i < tree.n; i++) {
    if (tree.name(i).includes(name) && g.rectOf(i) && (best < 0 || tree.total[i] > tree.total[best])) best = i;
  }
  if (best < 0) return null;
  const r = g.rectOf(best);
  // Bring the frame into view (the graph box and the page scroll).
  const box = view.graphBox;
  if (r.y < box.scrollTop || r.y + r.h > box.scrollTop + box.clientHeight) box.scrollTop = Math.max(0, r.y - box.clientHeight / 2);
  const c0 = g.canvas.getBoundingClientRect();
  const yOnPage = c0.top + r.y;
  if (yOnPage < 0 || yOnPage + r.h > window.innerHeight) window.scrollBy(0, yOnPage - window.innerHeight / 2);
  const c = g.canvas.getBoundingClientRect();
  const x0 = Math.max(r.x, 0);
  const x1 = Math.min(r.x + r.w, g.viewGeometry.width);
  return { index: best, name: tree.name(best), x: c.left + (x0 + x1) / 2, y: c.top + r.y + r.h / 2, width: x1 - x0 };
}

// Renders a synthetic profile of n nodes in a visible box (below the page's panels) and times,
// in ms: JSON parsing of the GraphQL answer, building the tree from it plus the first drawing
// ("render"), zooms (each a click on a frame of the canvas, from the whole view, up to the end of
// drawing), zooming out, and a search. Drawing times include rasterisation (a one-pixel
// read-back after each drawing).
async function benchmark(n = 100000, { zooms = 12, keep = true } = {}) {
  FlameGraph.measureRaster = true;
  let box = $('#benchmark');
  if (!box) {
    box = document.createElement('section');
    box.id = 'benchmark';
    box.className = 'card';
    box.innerHTML = `<h2>Benchmark: synthetic profile</h2><div class="flame-view"></div>`;
    $('.content').append(box);
  }
  box.hidden = false;
  const view = box.view || (box.view = new FlameView($('.flame-view', box), { describe: describeFrame, legend: legendKinds }));
  const json = JSON.stringify({ data: { analysisEBPFResult: syntheticProfile(n) } });
  const tj = performance.now();
  const analysis = JSON.parse(json).data.analysisEBPFResult;
  const jsonParseMs = performance.now() - tj;
  const t0 = performance.now();
  const tree = ebpfTree(analysis, 'samples');
  const buildMs = performance.now() - t0;
  view.setTree(tree);
  const renderMs = performance.now() - t0;
  const drawMs = view.graph.lastRenderMs;
  const drawn = view.graph.visibleCount;
  // Zoom targets: frames drawn at least 4 px wide at depth 1..40, evenly spread over them.
  const g = view.graph;
  const candidates = [];
  for (let i = 1; i < tree.n; i++) {
    const r = tree.depth[i] <= 40 ? g.rectOf(i) : null;
    if (r && r.w >= 4 && tree.total[i] < tree.total[0] * 0.98) candidates.push(i);
  }
  const zoomMs = [];
  const zoomDrawn = [];
  for (let k = 0; k < zooms && candidates.length; k++) {
    const target = candidates[Math.floor(((k + 0.5) * candidates.length) / zooms)];
    g.zoomTo(0);
    const r = g.rectOf(target);
    // Scroll the row into view, then click its middle.
    const boxEl = view.graphBox;
    boxEl.scrollTop = Math.max(0, r.y - boxEl.clientHeight / 2);
    const c = g.canvas.getBoundingClientRect();
    const ev = new MouseEvent('click', { clientX: c.left + r.x + r.w / 2, clientY: c.top + r.y + r.h / 2, bubbles: true });
    const s = performance.now();
    g.canvas.dispatchEvent(ev);
    const ms = performance.now() - s;
    if (g.zoom !== target) throw new Error(`benchmark: the click zoomed into ${g.zoom}, expected ${target}`);
    zoomMs.push(ms);
    zoomDrawn.push(g.visibleCount);
  }
  const tr = performance.now();
  g.reset();
  const resetMs = performance.now() - tr;
  const ts = performance.now();
  const found = view.search('Class1');
  const searchMs = performance.now() - ts;
  view.search('');
  view.searchInput.value = '';
  FlameGraph.measureRaster = false;
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  if (!keep) box.hidden = true;
  const sorted = zoomMs.slice().sort((a, b) => a - b);
  return {
    nodes: tree.n - 1,
    trees: analysis.trees.length,
    maxDepth: tree.maxDepth,
    canvasWidth: g.viewGeometry.width,
    devicePixelRatio: window.devicePixelRatio,
    drawnAtFirstRender: drawn,
    jsonParseMs,
    buildMs,
    drawMs,
    renderMs,
    zoomMs,
    zoomDrawn,
    zoomMedianMs: sorted[Math.floor(sorted.length / 2)],
    zoomMaxMs: sorted[sorted.length - 1],
    resetMs,
    searchMs,
    searchMatches: found?.nodes ?? 0,
  };
}

window.stackhouse = {
  state,
  continuous: continuousView,
  network: networkView,
  flame: flameView,
  diff: diffView,
  frameRect: (name) => frameRect(flameView, name),
  diffFrameRect: (name) => frameRect(diffView, name),
  zoomedName: (view = flameView) => (view.graph.tree ? view.graph.tree.name(view.graph.zoom) : null),
  benchmark,
  // Render times include rasterisation when true (a one-pixel read-back after drawing).
  measureRaster: (on) => {
    FlameGraph.measureRaster = !!on;
  },
  ready: null,
};

wire();
window.stackhouse.ready = guarded('Services', loadServices).then(() => {
  document.body.dataset.ready = 'true';
});
