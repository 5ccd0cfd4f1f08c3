#!/usr/bin/env python3
"""Writes Stackhouse's default booster-ui dashboards to src/service/data/ui_templates/.

The JSON files are committed and compiled into the binary (src/CMakeLists.txt); this script is
how they are written, so that the dashboards of the five layers stay alike. Run it after editing
and commit its output:  scripts/ui_templates.py
With --check it writes nothing and fails if the committed files differ from what it would write
(the ctest ui_templates_generated). docs/dashboards.md lists the dashboards;
tests/service/default_ui_templates_test.cc checks them.
"""

import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "src/service/data/ui_templates"

# Per layer: the file/id prefix, the names of its dashboards (None: the layer has none) and
# which profiling each service dashboard offers. Names are what widgets link to; keep them stable.
LAYERS = [
    {
        "layer": "GENERAL", "slug": "general", "what": "services with SkyWalking language agents",
        "root": "General-Root", "service": "General-Service", "instance": "General-Instance",
        "instances_tab": "Instances", "process": None, "relation": None,
        "trace": True, "ebpf": False, "continuous": False,
    },
    {
        "layer": "K8S_SERVICE", "slug": "k8s-service", "what": "Kubernetes services seen by Rover",
        "root": "K8S-Service-Root", "service": "K8S-Service-Service",
        "instance": "K8S-Service-Pods", "instances_tab": "Pods",
        "process": "Kubernetes-Process", "relation": "Kubernetes-Process-Relation-Metrics",
        "trace": False, "ebpf": True, "continuous": True,
    },
    {
        "layer": "MESH", "slug": "mesh", "what": "service mesh services",
        "root": "Mesh-Root", "service": "Mesh-Service", "instance": "Mesh-Instance",
        "instances_tab": "Instances",
        "process": "Mesh-Process", "relation": "Mesh-Process-Relation-Metrics",
        "trace": False, "ebpf": True, "continuous": True,
    },
    {
        "layer": "MESH_DP", "slug": "mesh-dp", "what": "service mesh data plane (sidecar) services",
        "root": "Mesh-Data-Plane-Root", "service": "Mesh-Data-Plane-Service",
        "instance": "Mesh-Data-Plane-Instance", "instances_tab": "Instances",
        "process": None, "relation": "ServiceMesh-Data-Plane-Process-Relation-Metrics",
        "trace": False, "ebpf": True, "continuous": False,
    },
    {
        "layer": "OS_LINUX", "slug": "os-linux", "what": "Linux hosts (VMs) seen by Rover",
        "root": "Linux-Root", "service": "Linux-Service", "instance": "Linux-Instance",
        "instances_tab": "Instances",
        "process": "Linux-Process", "relation": "Linux-Process-Relation-Metrics",
        "trace": False, "ebpf": True, "continuous": True,
    },
]

LINE_GRAPH = {"type": "Line", "step": False, "smooth": False, "showSymbol": True,
              "showXAxis": True, "showYAxis": True}


def at(i, x, y, w, h, body):
    return {"x": x, "y": y, "w": w, "h": h, "i": str(i), **body}


def line(title, expression, unit=None, tips=None):
    body = {"type": "Widget", "expressions": [expression], "typesOfMQE": ["TIME_SERIES_VALUES"],
            "graph": dict(LINE_GRAPH), "widget": {"title": title}}
    if tips:
        body["widget"]["tips"] = tips
    if unit:
        body["metricConfig"] = [{"unit": unit}]
    return body


def top_list(title, expression, unit):
    return {"type": "Widget", "expressions": [expression], "typesOfMQE": ["RECORD_LIST"],
            "graph": {"type": "TopList", "color": "purple"}, "widget": {"title": title},
            "metricConfig": [{"unit": unit}], "relatedTrace": {"refIdType": "traceId"}}


def text(content):
    return {"type": "Text", "graph": {"fontColor": "theme", "backgroundColor": "theme",
                                      "content": content, "fontSize": 14, "textAlign": "left",
                                      "url": ""}}


def grid(widgets, columns, height):
    """Lays `widgets` out left to right, `columns` per row, each `height` high."""
    width = 24 // columns
    return [at(n, (n % columns) * width, (n // columns) * height, width, height, w)
            for n, w in enumerate(widgets)]


def tab(tabs, h=52):
    return at(0, 0, 0, 24, h, {"type": "Tab", "activedTabIndex": 0, "children": [
        {"name": name, "children": children} for name, children in tabs]})


def whole(body, h=48):
    return [at(0, 0, 0, 24, h, body)]


def dashboard(layer, kind, entity, name, children, is_root=False):
    return {"id": f"stackhouse-{layer['slug']}-{kind}", "name": name, "layer": layer["layer"],
            "entity": entity, "isRoot": is_root, "isDefault": not is_root, "children": children}


def root(layer):
    intro = text(
        f"Stackhouse: profiling for {layer['what']}. Open a service to profile it. Stackhouse "
        "keeps profiling data only and computes no service metrics, so this list has no metric "
        "columns.")
    services = {"type": "Widget", "widget": {"title": "Services"},
                "graph": {"type": "ServiceList", "dashboardName": layer["service"],
                          "fontSize": 12, "showXAxis": False, "showYAxis": False,
                          "showGroup": True}}
    return dashboard(layer, "root", "All", layer["root"],
                     [at(0, 0, 0, 24, 5, intro), at(1, 0, 5, 24, 48, services)], is_root=True)


def service(layer):
    instances = {"type": "Widget", "widget": {"title": layer["instances_tab"]},
                 "graph": {"type": "InstanceList", "dashboardName": layer["instance"],
                           "fontSize": 12}}
    tabs = [(layer["instances_tab"], whole(instances))]
    if layer["trace"]:
        tabs.append(("Trace Profiling", whole({"type": "Profile"})))
    if layer["ebpf"]:
        tabs.append(("eBPF Profiling", whole({"type": "Ebpf"})))
    if layer["continuous"]:
        tabs.append(("Continuous Profiling", whole({
            "type": "ContinuousProfiling", "instanceDashboardName": layer["instance"],
            "processDashboardName": layer["process"]})))
    return dashboard(layer, "service", "Service", layer["service"], [tab(tabs)])


def instance(layer):
    if layer["relation"] is None:
        return dashboard(layer, "instance", "ServiceInstance", layer["instance"], [
            at(0, 0, 0, 24, 8, text(
                "Trace profiling tasks are created per service and endpoint: use the "
                "\"Trace Profiling\" tab of the service dashboard. The agents of every instance "
                "of the service take part."))])
    network = {"type": "NetworkProfiling", "linkDashboard": layer["relation"]}
    return dashboard(layer, "instance", "ServiceInstance", layer["instance"],
                     [tab([("Network Profiling", whole(network))])])


def process(layer):
    timeline = {"type": "TaskTimeline", "linkDashboard": layer["relation"]}
    metrics = grid([
        line("Process CPU Usage (%)", "continuous_profiling_process_cpu/10000", "%"),
        line("Process Threads", "continuous_profiling_process_thread_count"),
        line("System Load", "continuous_profiling_system_load"),
    ], 3, 14) + [
        at(3, 0, 14, 12, 16, line("HTTP Error Rate by URI (%)",
                                  "continuous_profiling_http_error_rate/100", "%")),
        at(4, 12, 14, 12, 16, line("HTTP Avg Response Time by URI (ms)",
                                   "continuous_profiling_http_avg_response_time", "ms")),
    ]
    return dashboard(layer, "process", "Process", layer["process"],
                     [tab([("Task", whole(timeline)), ("Metrics", metrics)])])


def tcp_widgets():
    per_side = [
        ("Writes per Minute", "write_cpm", "", None),
        ("Reads per Minute", "read_cpm", "", None),
        ("Bytes Written (KB)", "write_total_bytes", "/1024", "KB"),
        ("Bytes Read (KB)", "read_total_bytes", "/1024", "KB"),
        ("Avg Write Time (ms)", "write_avg_exe_time", "/1000000", "ms"),
        ("Avg Read Time (ms)", "read_avg_exe_time", "/1000000", "ms"),
        ("Connects per Minute", "connect_cpm", "", None),
        ("Closes per Minute", "close_cpm", "", None),
        ("Avg Close Time (ms)", "close_avg_exe_time", "/1000000", "ms"),
        ("Avg Write RTT (μs)", "write_avg_rtt_time", "", "μs"),
        ("Write RTT Percentiles (μs)", "write_rtt_time_percentile", "", "μs"),
        ("Write Time Percentiles (ms)", "write_exe_time_percentile", "/1000000", "ms"),
        ("Read Time Percentiles (ms)", "read_exe_time_percentile", "/1000000", "ms"),
    ]
    widgets = []
    for title, metric, scale, unit in per_side:
        for side in ("client", "server"):
            widgets.append(line(f"{title} ({side.capitalize()})",
                                f"process_relation_{side}_{metric}{scale}", unit))
    widgets.append(line("Avg Connect Time (Client) (ms)",
                        "process_relation_client_connect_exe_time/1000000", "ms"))
    widgets.append(line("Avg Connect Time (Server) (ms)",
                        "process_relation_server_connect_avg_exe_time/1000000", "ms"))
    return grid(widgets, 4, 11)


def http1_widgets():
    return grid([
        line("HTTP Requests per Minute", "process_relation_http1_request_cpm"),
        line("HTTP Responses per Minute by Status", "process_relation_http1_response_status_cpm"),
        line("Avg Request Size (KB)", "process_relation_http1_request_package_size/1024", "KB"),
        line("Avg Response Size (KB)", "process_relation_http1_response_package_size/1024", "KB"),
        line("Request Size Percentiles (KB)",
             "process_relation_http1_request_package_size_percentile/1024", "KB"),
        line("Response Size Percentiles (KB)",
             "process_relation_http1_response_package_size_percentile/1024", "KB"),
        line("Avg Client Duration (ms)", "process_relation_http1_client_duration", "ms"),
        line("Client Duration Percentiles (ms)",
             "process_relation_http1_client_duration_percentile", "ms"),
        line("Avg Server Duration (ms)", "process_relation_http1_server_duration", "ms"),
        line("Server Duration Percentiles (ms)",
             "process_relation_http1_server_duration_percentile", "ms"),
    ], 2, 12)


def sampled_widgets():
    note = text("Requests Rover sampled while network profiling: the slowest, and those that "
                "answered 4xx or 5xx, with their trace ids.")
    return [at(0, 0, 0, 24, 4, note)] + [
        at(n + 1, n * 8, 4, 8, 40, top_list(title, f"top_n({record},50,DES)", "ms"))
        for n, (title, record) in enumerate([
            ("Slow Requests (ms)", "sampled_slow_trace_record"),
            ("Requests Answered 4xx (ms)", "sampled_status_4xx_trace_record"),
            ("Requests Answered 5xx (ms)", "sampled_status_5xx_trace_record"),
        ])]


def relation(layer):
    return dashboard(layer, "process-relation", "ProcessRelation", layer["relation"], [tab([
        ("TCP", tcp_widgets()), ("HTTP/1.x", http1_widgets()),
        ("HTTP Requests", sampled_widgets())], h=60)])


def files():
    """File name → content of every dashboard."""
    out = {}
    for layer in LAYERS:
        boards = [root(layer), service(layer), instance(layer)]
        if layer["process"]:
            boards.append(process(layer))
        if layer["relation"]:
            boards.append(relation(layer))
        for board in boards:
            name = f"{board['id'].removeprefix('stackhouse-')}.dashboard.json"
            out[name] = json.dumps(board, indent=2, ensure_ascii=False) + "\n"
    return out


def main(argv):
    wanted = files()
    if argv[1:] == ["--check"]:
        present = {p.name: p.read_text(encoding="utf-8") for p in OUT.glob("*.dashboard.json")}
        stale = sorted(n for n in wanted.keys() | present.keys()
                       if wanted.get(n) != present.get(n))
        if stale:
            print(f"{OUT} differs from scripts/ui_templates.py in: {', '.join(stale)}; "
                  "run scripts/ui_templates.py", file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.dashboard.json"):
        old.unlink()
    for name, content in wanted.items():
        (OUT / name).write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
