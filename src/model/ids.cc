#include "model/ids.h"

#include <openssl/evp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace stackhouse::model {
namespace {

std::string HexDigest(const EVP_MD* md, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

void AppendLittleEndian64(std::string* out, int64_t value) {
  auto bits = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

std::string B64OrBlank(absl::string_view name) {
  return absl::Base64Escape(IsBlank(name) ? kBlankName : name);
}

}  // namespace

bool IsBlank(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string TruncateName(absl::string_view name, int max_utf16_units) {
  int units = 0;
  size_t i = 0;
  while (i < name.size()) {
    auto lead = static_cast<unsigned char>(name[i]);
    size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    int needed = length == 4 ? 2 : 1;
    if (units + needed > max_utf16_units) break;
    units += needed;
    i = std::min(name.size(), i + length);
  }
  return std::string(name.substr(0, i));
}

std::string ServiceId(absl::string_view service_name, bool normal) {
  return absl::StrCat(B64OrBlank(service_name), ".", normal ? "1" : "0");
}

std::string InstanceId(absl::string_view service_id, absl::string_view instance_name) {
  return absl::StrCat(service_id, "_", B64OrBlank(instance_name));
}

std::string EndpointId(absl::string_view service_id, absl::string_view endpoint_name) {
  return absl::StrCat(service_id, "_", B64OrBlank(endpoint_name));
}

std::string ProcessId(absl::string_view process_name, absl::string_view instance_id) {
  absl::string_view name = IsBlank(process_name) ? kBlankName : process_name;
  return Sha256Hex(absl::StrCat(name, "_", instance_id));
}

std::string ProcessRelationId(absl::string_view source_process_id,
                              absl::string_view dest_process_id) {
  return absl::StrCat(source_process_id, "-", dest_process_id);
}

std::string ProfileTaskId(int64_t create_time_ms, absl::string_view service_id) {
  return absl::StrCat(create_time_ms, "_", service_id);
}

std::string ProfileTaskLogId(absl::string_view task_id, absl::string_view instance_id,
                             int operation_type, int64_t operation_time_ms) {
  return absl::StrCat(task_id, "_", instance_id, "_", operation_type, "_", operation_time_ms);
}

std::string ThreadSnapshotId(absl::string_view task_id, absl::string_view segment_id,
                             int sequence) {
  return absl::StrCat(task_id, "_", segment_id, "_", sequence);
}

void AppendGsonString(std::string* out_ptr, absl::string_view value) {
  std::string& out = *out_ptr;
  out.push_back('"');
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '<':
        out.append("\\u003c");
        break;
      case '>':
        out.append("\\u003e");
        break;
      case '&':
        out.append("\\u0026");
        break;
      case '=':
        out.append("\\u003d");
        break;
      case '\'':
        out.append("\\u0027");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

std::string GsonStringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendGsonString(&out, values[i]);
  }
  out.push_back(']');
  return out;
}

std::string EbpfTaskLogicalId(absl::string_view service_id, const std::vector<std::string>& labels,
                              int64_t start_time_ms) {
  std::string input(service_id);
  if (!labels.empty()) input.append(GsonStringArray(labels));
  AppendLittleEndian64(&input, start_time_ms);
  return Sha256Hex(input);
}

std::string EbpfTaskRowId(absl::string_view logical_id, int64_t create_time_ms) {
  std::string input(logical_id);
  AppendLittleEndian64(&input, create_time_ms);
  return Sha256Hex(input);
}

std::string EbpfScheduleId(absl::string_view task_id, absl::string_view process_id,
                           int64_t profiling_start_time_ms) {
  return Sha256Hex(absl::StrCat(task_id, "_", process_id, "_", profiling_start_time_ms));
}

std::string EbpfStackIdList(int32_t kernel_stack_id, int32_t user_stack_id) {
  if (kernel_stack_id >= 0 && user_stack_id >= 0) {
    return absl::StrCat(kernel_stack_id, "_", user_stack_id);
  }
  if (kernel_stack_id >= 0) return absl::StrCat(kernel_stack_id);
  if (user_stack_id >= 0) return absl::StrCat(user_stack_id);
  return "";
}

std::string EbpfDataRowId(absl::string_view schedule_id, absl::string_view stack_id_list,
                          int64_t upload_time_ms) {
  std::string input = absl::StrCat(schedule_id, stack_id_list);
  AppendLittleEndian64(&input, upload_time_ms);
  return Sha256Hex(input);
}

std::string ContinuousPolicyUuid(absl::string_view configuration_json) {
  return Sha512Hex(configuration_json);
}

absl::StatusOr<ServiceIdParts> DecodeServiceId(absl::string_view service_id) {
  std::vector<absl::string_view> parts = absl::StrSplit(service_id, '.');
  std::string name;
  if (parts.size() != 2 || (parts[1] != "0" && parts[1] != "1") ||
      !absl::Base64Unescape(parts[0], &name)) {
    return absl::InvalidArgumentError(absl::StrCat("malformed service id \"", service_id, "\""));
  }
  return ServiceIdParts{std::move(name), parts[1] == "1"};
}

absl::StatusOr<ChildIdParts> DecodeChildId(absl::string_view id) {
  std::vector<absl::string_view> parts = absl::StrSplit(id, '_');
  std::string name;
  if (parts.size() != 2 || !DecodeServiceId(parts[0]).ok() ||
      !absl::Base64Unescape(parts[1], &name)) {
    return absl::InvalidArgumentError(absl::StrCat("malformed id \"", id, "\""));
  }
  return ChildIdParts{std::string(parts[0]), std::move(name)};
}

std::string Sha256Hex(absl::string_view data) { return HexDigest(EVP_sha256(), data); }
std::string Sha512Hex(absl::string_view data) { return HexDigest(EVP_sha512(), data); }

}  // namespace stackhouse::model
