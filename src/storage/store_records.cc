#include "storage/store_records.h"

#include "stackhouse/records.pb.h"

namespace stackhouse::storage {

std::string EncodeProcess(const model::Process& p) {
  records::ProcessRecord pb;
  pb.set_name(p.name);
  pb.set_service_id(p.service_id);
  pb.set_service_name(p.service_name);
  pb.set_instance_id(p.instance_id);
  pb.set_instance_name(p.instance_name);
  pb.set_layer(p.layer);
  pb.set_agent_id(p.agent_id);
  pb.set_detect_type(static_cast<int32_t>(p.detect_type));
  pb.set_profiling_supported(p.profiling_supported);
  for (const auto& [key, value] : p.properties) {
    auto* kv = pb.add_properties();
    kv->set_key(key);
    kv->set_value(value);
  }
  for (const std::string& label : p.labels) pb.add_labels(label);
  pb.set_first_seen_ms(p.first_seen_ms);
  return pb.SerializeAsString();
}

absl::StatusOr<model::Process> DecodeProcess(absl::string_view bytes) {
  records::ProcessRecord pb;
  if (!pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return absl::DataLossError("cannot decode stored process");
  model::Process p;
  p.name = pb.name();
  p.service_id = pb.service_id();
  p.service_name = pb.service_name();
  p.instance_id = pb.instance_id();
  p.instance_name = pb.instance_name();
  p.layer = pb.layer();
  p.agent_id = pb.agent_id();
  p.detect_type = static_cast<model::DetectType>(pb.detect_type() & 3);
  p.profiling_supported = pb.profiling_supported();
  for (const auto& kv : pb.properties()) p.properties.emplace_back(kv.key(), kv.value());
  p.labels.assign(pb.labels().begin(), pb.labels().end());
  p.first_seen_ms = pb.first_seen_ms();
  return p;
}

std::string EncodeEbpfTask(const model::EbpfTask& task) {
  records::EbpfTaskRecord pb;
  pb.set_service_id(task.service_id);
  for (const std::string& label : task.process_labels) pb.add_process_labels(label);
  pb.set_instance_id(task.instance_id);
  pb.set_start_time_ms(task.start_time_ms);
  pb.set_trigger_type(static_cast<int32_t>(task.trigger_type));
  pb.set_fixed_trigger_duration_s(task.fixed_trigger_duration_s);
  pb.set_target_type(static_cast<int32_t>(task.target_type));
  pb.set_last_update_time_ms(task.last_update_time_ms);
  pb.set_extension_config_json(task.extension_config_json);
  if (task.continuous) {
    pb.set_has_continuous(true);
    pb.set_process_id(task.continuous->process_id);
    pb.set_process_name(task.continuous->process_name);
    for (const model::ContinuousCause& cause : task.continuous->causes) {
      records::ContinuousCauseRecord* c = pb.add_causes();
      c->set_monitor_type(static_cast<int32_t>(cause.type));
      c->set_uri(cause.uri);
      c->set_uri_regex(cause.uri_regex);
      c->set_uri_text(cause.uri_text);
      c->set_threshold(cause.threshold);
      c->set_current(cause.current);
      c->set_message(cause.message);
    }
  }
  return pb.SerializeAsString();
}

absl::StatusOr<model::EbpfTask> DecodeEbpfTask(absl::string_view bytes) {
  records::EbpfTaskRecord pb;
  if (!pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return absl::DataLossError("cannot decode stored eBPF task");
  model::EbpfTask t;
  t.service_id = pb.service_id();
  t.process_labels.assign(pb.process_labels().begin(), pb.process_labels().end());
  t.instance_id = pb.instance_id();
  t.start_time_ms = pb.start_time_ms();
  t.trigger_type = pb.trigger_type() == 2 ? model::EbpfTriggerType::kContinuousProfiling
                                          : model::EbpfTriggerType::kFixedTime;
  t.fixed_trigger_duration_s = pb.fixed_trigger_duration_s();
  t.target_type = pb.target_type() == 2   ? model::EbpfTargetType::kOffCpu
                  : pb.target_type() == 3 ? model::EbpfTargetType::kNetwork
                                          : model::EbpfTargetType::kOnCpu;
  t.last_update_time_ms = pb.last_update_time_ms();
  t.extension_config_json = pb.extension_config_json();
  if (pb.has_continuous()) {
    model::ContinuousTrigger& trigger = t.continuous.emplace();
    trigger.process_id = pb.process_id();
    trigger.process_name = pb.process_name();
    for (const records::ContinuousCauseRecord& c : pb.causes()) {
      model::ContinuousCause cause;
      if (c.monitor_type() >= 1 && c.monitor_type() <= 5) {
        cause.type = static_cast<model::ContinuousMonitorType>(c.monitor_type());
      }
      cause.uri = c.uri();
      cause.uri_regex = c.uri_regex();
      cause.uri_text = c.uri_text();
      cause.threshold = c.threshold();
      cause.current = c.current();
      cause.message = c.message();
      trigger.causes.push_back(std::move(cause));
    }
  }
  return t;
}

std::string EncodeContinuousPolicy(const model::ContinuousPolicy& policy) {
  records::ContinuousPolicyRecord pb;
  pb.set_uuid(policy.uuid);
  for (const model::ContinuousTarget& target : policy.targets) {
    records::ContinuousTargetRecord* t = pb.add_targets();
    t->set_target_type(static_cast<int32_t>(target.type));
    for (const model::ContinuousCheckItem& item : target.items) {
      records::ContinuousCheckItemRecord* i = t->add_items();
      i->set_monitor_type(static_cast<int32_t>(item.type));
      i->set_threshold(item.threshold);
      i->set_period(item.period);
      i->set_count(item.count);
      if (item.uri_list) {
        i->set_has_uri_list(true);
        for (const std::string& uri : *item.uri_list) i->add_uri_list(uri);
      }
      if (item.uri_regex) {
        i->set_has_uri_regex(true);
        i->set_uri_regex(*item.uri_regex);
      }
    }
  }
  return pb.SerializeAsString();
}

absl::StatusOr<model::ContinuousPolicy> DecodeContinuousPolicy(absl::string_view bytes) {
  records::ContinuousPolicyRecord pb;
  if (!pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("cannot decode a stored continuous-profiling policy");
  }
  model::ContinuousPolicy policy;
  policy.uuid = pb.uuid();
  for (const records::ContinuousTargetRecord& t : pb.targets()) {
    if (t.target_type() < 1 || t.target_type() > 3) {
      return absl::DataLossError("a stored continuous-profiling policy has an unknown target");
    }
    model::ContinuousTarget& target = policy.targets.emplace_back();
    target.type = static_cast<model::EbpfTargetType>(t.target_type());
    for (const records::ContinuousCheckItemRecord& i : t.items()) {
      if (i.monitor_type() < 1 || i.monitor_type() > 5) {
        return absl::DataLossError("a stored continuous-profiling policy has an unknown monitor");
      }
      model::ContinuousCheckItem& item = target.items.emplace_back();
      item.type = static_cast<model::ContinuousMonitorType>(i.monitor_type());
      item.threshold = i.threshold();
      item.period = i.period();
      item.count = i.count();
      if (i.has_uri_list()) item.uri_list.emplace(i.uri_list().begin(), i.uri_list().end());
      if (i.has_uri_regex()) item.uri_regex = i.uri_regex();
    }
  }
  return policy;
}

std::string EncodeSpanEvent(const model::SpanAttachedEvent& e) {
  records::SpanEventRecord pb;
  pb.set_start_seconds(e.start_seconds);
  pb.set_start_nanos(e.start_nanos);
  pb.set_event(e.event);
  pb.set_end_seconds(e.end_seconds);
  pb.set_end_nanos(e.end_nanos);
  for (const auto& [k, v] : e.tags) {
    pb.add_tag_keys(k);
    pb.add_tag_values(v);
  }
  for (const auto& [k, v] : e.summary) {
    pb.add_summary_keys(k);
    pb.add_summary_values(v);
  }
  pb.set_zipkin(e.zipkin);
  pb.set_segment_id(e.segment_id);
  pb.set_span_id(e.span_id);
  return pb.SerializeAsString();
}

absl::StatusOr<model::SpanAttachedEvent> DecodeSpanEvent(absl::string_view bytes) {
  records::SpanEventRecord pb;
  if (!pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      pb.tag_keys_size() != pb.tag_values_size() ||
      pb.summary_keys_size() != pb.summary_values_size()) {
    return absl::DataLossError("cannot decode a stored attached event");
  }
  model::SpanAttachedEvent e;
  e.start_seconds = pb.start_seconds();
  e.start_nanos = pb.start_nanos();
  e.event = pb.event();
  e.end_seconds = pb.end_seconds();
  e.end_nanos = pb.end_nanos();
  for (int i = 0; i < pb.tag_keys_size(); ++i)
    e.tags.emplace_back(pb.tag_keys(i), pb.tag_values(i));
  for (int i = 0; i < pb.summary_keys_size(); ++i) {
    e.summary.emplace_back(pb.summary_keys(i), pb.summary_values(i));
  }
  e.zipkin = pb.zipkin();
  e.segment_id = pb.segment_id();
  e.span_id = pb.span_id();
  return e;
}

}  // namespace stackhouse::storage
