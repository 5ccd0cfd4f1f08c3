// The page's client of the server: GraphQL documents (the same fields booster-ui selects,
// graphql-protocol.md §3.2–3.4, plus Stackhouse's diff) and the export URLs.

export class ApiError extends Error {}

// POST /graphql. Resolves to `data`; rejects with an ApiError carrying the server's words: the
// GraphQL errors[].message (joined), or the HTTP status and the body's text.
export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(`cannot reach the server: ${err.message}`);
  }
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const messages = body && Array.isArray(body.errors) ? body.errors.map((e) => e && e.message).filter(Boolean) : [];
  if (!response.ok) {
    const detail = messages.length ? messages.join(' ') : text.trim() || response.statusText;
    throw new ApiError(`HTTP ${response.status}: ${detail}`);
  }
  if (messages.length) throw new ApiError(messages.join(' '));
  if (!body || typeof body !== 'object' || !body.data) throw new ApiError('the server answered without data');
  return body.data;
}

export const Q = {
  services: `query queryServices { services: listServices { id name group shortName layers normal } }`,
  timeInfo: `query queryOAPTimeInfo { getTimeInfo { timezone currentTimestamp } }`,
  endpoints: `query queryEndpoints($serviceId: ID!, $keyword: String!, $limit: Int!) {
    pods: findEndpoint(serviceId: $serviceId, keyword: $keyword, limit: $limit) { id value: name label: name } }`,
  profileTasks: `query getProfileTaskList($endpointName: String, $serviceId: ID) {
    taskList: getProfileTaskList(endpointName: $endpointName, serviceId: $serviceId) {
      serviceId endpointName startTime duration minDurationThreshold dumpPeriod maxSamplingCount id
      logs { id instanceId instanceName operationType operationTime } } }`,
  createProfileTask: `mutation createProfileTask($creationRequest: ProfileTaskCreationRequest) {
    task: createProfileTask(creationRequest: $creationRequest) { id errorReason } }`,
  segments: `query getProfileTaskSegmentList($taskID: ID!) {
    segmentList: getProfileTaskSegments(taskID: $taskID) {
      traceId instanceId instanceName endpointNames duration start
      spans { spanId parentSpanId segmentId serviceCode serviceInstanceName startTime endTime
              endpointName type peer component isError layer profiled } } }`,
  profileAnalyze: `query getProfileAnalyze($queries: [SegmentProfileAnalyzeQuery!]!) {
    analyze: getSegmentsProfileAnalyze(queries: $queries) {
      tip trees { elements { id parentId codeSignature duration durationChildExcluded count } } } }`,
  ebpfTasks: `query queryEBPFTasks($serviceId: ID, $targets: [EBPFProfilingTargetType!], $triggerType: EBPFProfilingTriggerType) {
    queryEBPFTasks: queryEBPFProfilingTasks(serviceId: $serviceId, targets: $targets, triggerType: $triggerType) {
      taskId serviceName serviceId serviceInstanceId serviceInstanceName processLabels processName processId
      taskStartTime triggerType fixedTriggerDuration targetType createTime } }`,
  createTaskData: `query queryCreateTaskData($serviceId: ID!) {
    createTaskData: queryPrepareCreateEBPFProfilingTaskData(serviceId: $serviceId) { couldProfiling processLabels } }`,
  createEbpfTask: `mutation createEBPFTask($request: EBPFProfilingTaskFixedTimeCreationRequest!) {
    createTaskData: createEBPFProfilingFixedTimeTask(request: $request) { status errorReason id } }`,
  schedules: `query queryEBPFSchedules($taskId: ID!) {
    eBPFSchedules: queryEBPFProfilingSchedules(taskId: $taskId) {
      scheduleId taskId startTime endTime
      process { id name serviceId serviceName instanceId instanceName agentId detectType attributes { name value } labels } } }`,
  ebpfAnalyze: `query analysisEBPFResult($scheduleIdList: [ID!]!, $timeRanges: [EBPFProfilingAnalyzeTimeRange!]!, $aggregateType: EBPFProfilingAnalyzeAggregateType) {
    analysisEBPFResult: analysisEBPFProfilingResult(scheduleIdList: $scheduleIdList, timeRanges: $timeRanges, aggregateType: $aggregateType) {
      tip trees { elements { id parentId symbol stackType dumpCount } } } }`,
  // Continuous profiling (graphql-protocol.md §3.6, §3.7; addendum §4.2).
  continuousTargets: `query getStrategyList($serviceId: ID!) {
    strategyList: queryContinuousProfilingServiceTargets(serviceId: $serviceId) {
      type checkItems { type threshold period count uriList uriRegex } triggeredCount lastTriggerTimestamp } }`,
  setContinuousPolicy: `mutation editStrategy($request: ContinuousProfilingPolicyCreation!) {
    strategy: setContinuousProfilingPolicy(request: $request) { errorReason status } }`,
  continuousInstances: `query continuousProfilingMonitoringInstances($serviceId: ID!, $target: ContinuousProfilingTargetType!) {
    instances: queryContinuousProfilingMonitoringInstances(serviceId: $serviceId, target: $target) {
      id name attributes { name value } triggeredCount lastTriggerTimestamp
      processes { id name detectType labels lastTriggerTimestamp triggeredCount } } }`,
  // eBPF tasks with the fields continuous profiling adds (causes); also lists an instance's NETWORK tasks.
  ebpfTasksWithCauses: `query getEBPFTasks($serviceId: ID, $serviceInstanceId: ID, $targets: [EBPFProfilingTargetType!], $triggerType: EBPFProfilingTriggerType) {
    queryEBPFTasks: queryEBPFProfilingTasks(serviceId: $serviceId, serviceInstanceId: $serviceInstanceId, targets: $targets, triggerType: $triggerType) {
      taskId serviceName serviceId serviceInstanceId serviceInstanceName processLabels processName processId
      taskStartTime triggerType fixedTriggerDuration targetType createTime
      continuousProfilingCauses { type singleValue { threshold current } uri { uriRegex uriPath threshold current } message } } }`,
  expression: `query queryData($duration: Duration!, $entity: Entity!, $expression: String!) {
    result: execExpression(expression: $expression, entity: $entity, duration: $duration) {
      type results { metric { labels { key value } } values { id value } } error } }`,
  // Network profiling (graphql-protocol.md §3.5).
  instances: `query queryInstances($serviceId: ID!, $duration: Duration!) {
    instances: listInstances(duration: $duration, serviceId: $serviceId) { id name } }`,
  createNetworkTask: `mutation createNetworkProfiling($request: EBPFProfilingNetworkTaskRequest!) {
    createTask: createEBPFNetworkProfiling(request: $request) { status errorReason id } }`,
  keepNetworkTask: `mutation keepNetworkProfiling($taskId: ID!) {
    keepTask: keepEBPFNetworkProfiling(taskId: $taskId) { status errorReason } }`,
  processTopology: `query getProcessTopology($serviceInstanceId: ID!, $duration: Duration!) {
    topology: getProcessTopology(serviceInstanceId: $serviceInstanceId, duration: $duration) {
      nodes { id name isReal serviceName serviceId serviceInstanceId serviceInstanceName }
      calls { id source detectPoints target sourceComponents targetComponents } } }`,
  // A trace with its spans and the events Rover attached to them (booster-ui's querySpans).
  trace: `query querySpans($traceId: ID!) {
    trace: queryTrace(traceId: $traceId) {
      spans { traceId segmentId spanId parentSpanId refs { traceId parentSegmentId parentSpanId type }
        serviceCode serviceInstanceName startTime endTime endpointName type peer component isError layer
        tags { key value }
        attachedEvents { startTime { seconds nanos } event endTime { seconds nanos } tags { key value } summary { key value } } } } }`,
  diff: `query stackhouseDiff($baseline: StackhouseProfileSelection!, $comparison: StackhouseProfileSelection!) {
    diff: stackhouseDiff(baseline: $baseline, comparison: $comparison) {
      unit baselineTotal comparisonTotal
      nodes { id parentId name stackType baselineValue comparisonValue baselineShare comparisonShare shareDelta baselineSelf comparisonSelf }
      topGains { DIFF_ROW }
      topLosses { DIFF_ROW } } }`,
};
const DIFF_ROW = 'id parentId name stackType baselineValue comparisonValue baselineShare comparisonShare shareDelta baselineSelf comparisonSelf';
Q.diff = Q.diff.replaceAll('DIFF_ROW', DIFF_ROW);

// A selection is what one flame graph shows:
//   {kind: 'trace', queries: [{segmentId, timeRange: {start, end}}], label}
//   {kind: 'ebpf', scheduleIdList: [...], timeRanges: [{start, end}], aggregateType, targetType, label}

export function selectionInput(sel) {
  if (sel.kind === 'trace') return { trace: { queries: sel.queries } };
  return { ebpf: { scheduleIdList: sel.scheduleIdList, timeRanges: sel.timeRanges, aggregateType: sel.aggregateType } };
}

export const EXPORT_FORMATS = [
  { format: 'pprof', label: 'pprof', ext: 'pb.gz' },
  { format: 'folded', label: 'folded', ext: 'folded.txt' },
  { format: 'speedscope', label: 'speedscope', ext: 'speedscope.json' },
];

export function exportUrl(sel, format) {
  const p = new URLSearchParams();
  p.append('format', format);
  if (sel.kind === 'trace') {
    for (const q of sel.queries) {
      p.append('segmentId', q.segmentId);
      p.append('start', String(q.timeRange.start));
      p.append('end', String(q.timeRange.end));
    }
    return `/export/trace?${p}`;
  }
  for (const id of sel.scheduleIdList) p.append('scheduleId', id);
  for (const r of sel.timeRanges) {
    p.append('start', String(r.start));
    p.append('end', String(r.end));
  }
  if (sel.aggregateType) p.append('aggregateType', sel.aggregateType);
  return `/export/ebpf?${p}`;
}

// Fetches an export; rejects with the server's 4xx text; resolves to a Blob.
export async function fetchExport(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new ApiError(`cannot reach the server: ${err.message}`);
  }
  if (!response.ok) {
    const text = (await response.text()).trim();
    throw new ApiError(`HTTP ${response.status}: ${text || response.statusText}`);
  }
  return response.blob();
}
