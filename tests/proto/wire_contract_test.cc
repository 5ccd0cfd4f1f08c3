// Golden test of the agent-facing wire contract: every package, message, field (number, name,
// type, label, oneof), enum value and RPC path of the project's own .proto files, as compiled
// into the binary, is listed as text and compared with testdata/wire_contract.golden.
//
// The golden file was reviewed line by line against shared/spec/grpc-protocol.md (§1.6, §2).
// A diff here means the wire contract changed: check it against the spec before updating it.
// To update: run the test with UPDATE_GOLDEN=1, then review the diff of the golden file.

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/Command.pb.h"
#include "common/Common.pb.h"
#include "ebpf/accesslog.pb.h"
#include "ebpf/profiling/Continuous.pb.h"
#include "ebpf/profiling/Process.pb.h"
#include "ebpf/profiling/Profile.pb.h"
#include "language-agent/Meter.pb.h"
#include "language-agent/MeterCompat.pb.h"
#include "language-agent/Tracing.pb.h"
#include "language-agent/TracingCompat.pb.h"
#include "logging/Logging.pb.h"
#include "management/Management.pb.h"
#include "management/ManagementCompat.pb.h"
#include "profile/Profile.pb.h"
#include "profile/ProfileCompat.pb.h"

#ifndef STACKHOUSE_PROTO_GOLDEN
#error "STACKHOUSE_PROTO_GOLDEN must name tests/proto/testdata/wire_contract.golden"
#endif

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

struct ProtoFile {
  absl::string_view path;
  // Defined in the file's generated .pb.cc. Taking its address makes the linker keep that object
  // (and the static initializer that registers the file in the generated pool), which matters for
  // the compat files: they declare only services, so nothing else references their object.
  const void* linked;
};

// Every file of the wire contract, sorted by path.
const ProtoFile kFiles[] = {
    {"common/Command.proto", &descriptor_table_common_2fCommand_2eproto},
    {"common/Common.proto", &descriptor_table_common_2fCommon_2eproto},
    {"ebpf/accesslog.proto", &descriptor_table_ebpf_2faccesslog_2eproto},
    {"ebpf/profiling/Continuous.proto", &descriptor_table_ebpf_2fprofiling_2fContinuous_2eproto},
    {"ebpf/profiling/Process.proto", &descriptor_table_ebpf_2fprofiling_2fProcess_2eproto},
    {"ebpf/profiling/Profile.proto", &descriptor_table_ebpf_2fprofiling_2fProfile_2eproto},
    {"language-agent/Meter.proto", &descriptor_table_language_2dagent_2fMeter_2eproto},
    {"language-agent/MeterCompat.proto", &descriptor_table_language_2dagent_2fMeterCompat_2eproto},
    {"language-agent/Tracing.proto", &descriptor_table_language_2dagent_2fTracing_2eproto},
    {"language-agent/TracingCompat.proto",
     &descriptor_table_language_2dagent_2fTracingCompat_2eproto},
    {"logging/Logging.proto", &descriptor_table_logging_2fLogging_2eproto},
    {"management/Management.proto", &descriptor_table_management_2fManagement_2eproto},
    {"management/ManagementCompat.proto", &descriptor_table_management_2fManagementCompat_2eproto},
    {"profile/Profile.proto", &descriptor_table_profile_2fProfile_2eproto},
    {"profile/ProfileCompat.proto", &descriptor_table_profile_2fProfileCompat_2eproto},
};

template <typename T>
void SortByFullName(std::vector<const T*>& v) {
  std::sort(v.begin(), v.end(),
            [](const T* a, const T* b) { return a->full_name() < b->full_name(); });
}

void CollectMessages(const Descriptor* m, std::vector<const Descriptor*>& messages,
                     std::vector<const EnumDescriptor*>& enums) {
  messages.push_back(m);
  for (int i = 0; i < m->nested_type_count(); ++i) {
    CollectMessages(m->nested_type(i), messages, enums);
  }
  for (int i = 0; i < m->enum_type_count(); ++i) enums.push_back(m->enum_type(i));
}

std::string FieldType(const FieldDescriptor* f) {
  switch (f->type()) {
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      return f->message_type()->full_name();
    case FieldDescriptor::TYPE_ENUM:
      return f->enum_type()->full_name();
    default:
      return f->type_name();
  }
}

std::string FieldLabel(const FieldDescriptor* f) {
  if (f->is_repeated()) return "repeated";
  if (f->is_required()) return "required";
  // proto3 `optional` (explicit presence via a synthetic oneof) differs from plain singular.
  if (f->has_optional_keyword()) return "optional";
  return "singular";
}

std::string StreamingKind(const MethodDescriptor* m) {
  if (m->client_streaming() && m->server_streaming()) return "bidi";
  if (m->client_streaming()) return "client-stream";
  if (m->server_streaming()) return "server-stream";
  return "unary";
}

void DescribeFile(const FileDescriptor* file, std::ostream& out) {
  out << "file " << file->name() << "\n";
  out << "package " << (file->package().empty() ? "<none>" : file->package()) << "\n";

  std::vector<const Descriptor*> messages;
  std::vector<const EnumDescriptor*> enums;
  for (int i = 0; i < file->message_type_count(); ++i) {
    CollectMessages(file->message_type(i), messages, enums);
  }
  for (int i = 0; i < file->enum_type_count(); ++i) enums.push_back(file->enum_type(i));
  SortByFullName(messages);
  SortByFullName(enums);

  for (const Descriptor* m : messages) {
    out << "message " << m->full_name() << "\n";
    std::vector<const FieldDescriptor*> fields;
    for (int i = 0; i < m->field_count(); ++i) fields.push_back(m->field(i));
    std::sort(fields.begin(), fields.end(), [](const FieldDescriptor* a, const FieldDescriptor* b) {
      return a->number() < b->number();
    });
    for (const FieldDescriptor* f : fields) {
      out << "  " << m->full_name() << "  " << f->number() << "  " << f->name() << "  "
          << FieldType(f) << "  " << FieldLabel(f);
      if (const auto* oneof = f->real_containing_oneof()) out << "  oneof=" << oneof->name();
      if (f->is_packed()) out << "  packed";
      out << "\n";
    }
  }

  for (const EnumDescriptor* e : enums) {
    out << "enum " << e->full_name() << "\n";
    std::vector<std::pair<int, std::string>> values;
    for (int i = 0; i < e->value_count(); ++i) {
      values.emplace_back(e->value(i)->number(), e->value(i)->name());
    }
    std::sort(values.begin(), values.end());
    for (const auto& [number, name] : values) out << "  " << name << " = " << number << "\n";
  }

  std::vector<const ServiceDescriptor*> services;
  for (int i = 0; i < file->service_count(); ++i) services.push_back(file->service(i));
  SortByFullName(services);
  for (const ServiceDescriptor* s : services) {
    out << "service " << s->full_name() << "\n";
    std::vector<const MethodDescriptor*> methods;
    for (int i = 0; i < s->method_count(); ++i) methods.push_back(s->method(i));
    std::sort(
        methods.begin(), methods.end(),
        [](const MethodDescriptor* a, const MethodDescriptor* b) { return a->name() < b->name(); });
    for (const MethodDescriptor* m : methods) {
      out << "  /" << s->full_name() << "/" << m->name() << "  " << m->input_type()->full_name()
          << " -> " << m->output_type()->full_name() << "  " << StreamingKind(m) << "\n";
    }
  }
}

using Lines = std::vector<std::string>;

Lines SplitLines(const std::string& text) {
  Lines lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

constexpr size_t kContext = 3;

// True if `want` from line i and `got` from line j agree for kContext lines (or both end).
bool InSync(const Lines& want, size_t i, const Lines& got, size_t j) {
  for (size_t k = 0; k < kContext; ++k, ++i, ++j) {
    if (i == want.size() || j == got.size()) return i == want.size() && j == got.size();
    if (want[i] != got[j]) return false;
  }
  return true;
}

// The first hunk of a unified diff from `expected` to `actual` (which must differ): the first
// differing lines up to where both sides agree again, with kContext lines of context.
std::string DiffFirstHunk(const std::string& expected, const std::string& actual) {
  constexpr size_t kMaxLines = 40;
  const Lines want = SplitLines(expected);
  const Lines got = SplitLines(actual);
  size_t start = 0;
  while (start < want.size() && start < got.size() && want[start] == got[start]) ++start;
  // The closest resynchronisation point, by the number of lines skipped on both sides.
  size_t want_end = want.size();
  size_t got_end = got.size();
  const size_t max_skip = (want.size() - start) + (got.size() - start);
  bool found = false;
  for (size_t skip = 1; skip <= max_skip && !found; ++skip) {
    for (size_t w = 0; w <= skip && !found; ++w) {
      const size_t i = start + w;
      const size_t j = start + skip - w;
      if (i <= want.size() && j <= got.size() && InSync(want, i, got, j)) {
        want_end = i;
        got_end = j;
        found = true;
      }
    }
  }
  const size_t before = start > kContext ? start - kContext : 0;
  const size_t after = std::min(kContext, want.size() - want_end);
  std::ostringstream out;
  out << "--- golden\n+++ actual\n@@ -" << before + 1 << "," << want_end + after - before << " +"
      << before + 1 << "," << got_end + after - before << " @@\n";
  for (size_t i = before; i < start; ++i) out << " " << want[i] << "\n";
  auto print_side = [&](const Lines& lines, size_t end, char mark) {
    for (size_t i = start; i < end && i < start + kMaxLines; ++i) out << mark << lines[i] << "\n";
    if (end > start + kMaxLines) out << mark << "... " << end - start - kMaxLines << " more\n";
  };
  print_side(want, want_end, '-');
  print_side(got, got_end, '+');
  for (size_t i = want_end; i < want_end + after; ++i) out << " " << want[i] << "\n";
  if (!std::equal(want.begin() + want_end, want.end(), got.begin() + got_end, got.end())) {
    out << "(further differences not shown)\n";
  }
  return out.str();
}

TEST(WireContractTest, MatchesGolden) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  std::ostringstream listing;
  for (const ProtoFile& file : kFiles) {
    // A volatile copy cannot be folded away, so the reference to the symbol stays in the binary.
    const void* volatile linked = file.linked;
    ASSERT_NE(linked, nullptr);
    const FileDescriptor* descriptor = pool->FindFileByName(std::string(file.path));
    ASSERT_NE(descriptor, nullptr) << file.path << " is not in the generated pool";
    DescribeFile(descriptor, listing);
  }
  const std::string actual = listing.str();
  const std::string golden_path = STACKHOUSE_PROTO_GOLDEN;

  const char* update = std::getenv("UPDATE_GOLDEN");
  if (update != nullptr && absl::string_view(update) == "1") {
    std::ofstream out(golden_path, std::ios::binary | std::ios::trunc);
    out << actual;
    out.close();
    ASSERT_FALSE(out.fail()) << "cannot write " << golden_path;
    GTEST_SKIP() << "rewrote " << golden_path << "; review its diff against the spec";
  }

  std::ifstream in(golden_path, std::ios::binary);
  ASSERT_TRUE(in.is_open()) << "cannot read " << golden_path << " (UPDATE_GOLDEN=1 creates it)";
  const std::string expected{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (expected != actual) {
    ADD_FAILURE() << "wire contract differs from " << golden_path << ":\n"
                  << DiffFirstHunk(expected, actual);
  }
}

}  // namespace
