#include "simulator/rover_stacks.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace stackhouse::sim {
namespace {

constexpr ProcessKind kKinds[] = {ProcessKind::kJava, ProcessKind::kGo, ProcessKind::kEnvoy};
constexpr EbpfTarget kTargets[] = {EbpfTarget::kOnCpu, EbpfTarget::kOffCpu};

std::string Label(ProcessKind kind, EbpfTarget target) {
  return absl::StrCat(ProcessKindName(kind), " ", EbpfTargetName(target));
}

TEST(StackModelTest, DistinctDeepStacksWithConsistentIds) {
  for (ProcessKind kind : kKinds) {
    for (EbpfTarget target : kTargets) {
      SCOPED_TRACE(Label(kind, target));
      StackModel model(kind, target, 400, 11);
      const std::vector<SimStack>& stacks = model.stacks();
      ASSERT_EQ(stacks.size(), 400u);
      absl::flat_hash_set<std::pair<int32_t, int32_t>> pairs;
      absl::flat_hash_map<int32_t, std::vector<std::string>> users;
      absl::flat_hash_map<int32_t, std::vector<std::string>> kernels;
      size_t deep = 0;
      size_t with_kernel = 0;
      size_t odd_symbols = 0;
      for (const SimStack& s : stacks) {
        EXPECT_TRUE(pairs.insert({s.kernel_id, s.user_id}).second) << "pair repeated";
        // One id per distinct symbol list, as in a stack map.
        auto [u, u_new] = users.try_emplace(s.user_id, s.user);
        if (!u_new) {
          EXPECT_EQ(u->second, s.user);
        }
        EXPECT_GT(s.user_id, 0);
        EXPECT_LE(s.user.size(), 60u);
        deep += s.user.size() >= 20;
        if (!s.kernel.empty()) {
          ++with_kernel;
          EXPECT_GT(s.kernel_id, 0);
          auto [k, k_new] = kernels.try_emplace(s.kernel_id, s.kernel);
          if (!k_new) {
            EXPECT_EQ(k->second, s.kernel);
          }
          EXPECT_GE(s.kernel.size(), 5u);
          EXPECT_LE(s.kernel.size(), 15u);
          // Outermost: a syscall, a page fault or an interrupt.
          const std::string& entry = s.kernel.back();
          EXPECT_TRUE(entry == "entry_SYSCALL_64_after_hwframe" || entry == "asm_exc_page_fault" ||
                      entry.rfind("asm_sysvec_", 0) == 0)
              << entry;
        } else {
          EXPECT_EQ(s.kernel_id, 0);
        }
        if (target == EbpfTarget::kOffCpu) {
          ASSERT_FALSE(s.kernel.empty());
          EXPECT_EQ(s.kernel.front(), "finish_task_switch.isra.0");  // innermost first
          EXPECT_GT(s.off_cpu_mean_ns, 0);
        }
        for (const std::string& symbol : s.user) {
          odd_symbols += symbol.empty() || symbol == "[unknown]";
        }
      }
      // Nearly all user stacks are 20-60 frames; Envoy's idle wait and plain socket reads are
      // shallower, as in real profiles.
      EXPECT_GE(deep, stacks.size() * 85 / 100);
      EXPECT_GT(with_kernel, stacks.size() / 3);
      EXPECT_GT(odd_symbols, 0u);
    }
  }
}

TEST(StackModelTest, UserStacksAreInnermostFirst) {
  StackModel java(ProcessKind::kJava, EbpfTarget::kOnCpu, 50, 3);
  for (const SimStack& s : java.stacks()) EXPECT_EQ(s.user.back(), "start_thread");
  StackModel go(ProcessKind::kGo, EbpfTarget::kOnCpu, 50, 3);
  for (const SimStack& s : go.stacks()) EXPECT_EQ(s.user.back(), "runtime.goexit.abi0");
}

TEST(StackModelTest, DeterministicForASeed) {
  StackModel a(ProcessKind::kEnvoy, EbpfTarget::kOffCpu, 100, 5);
  StackModel b(ProcessKind::kEnvoy, EbpfTarget::kOffCpu, 100, 5);
  ASSERT_EQ(a.stacks().size(), b.stacks().size());
  for (size_t i = 0; i < a.stacks().size(); ++i) {
    EXPECT_EQ(a.stacks()[i].user, b.stacks()[i].user);
    EXPECT_EQ(a.stacks()[i].kernel_id, b.stacks()[i].kernel_id);
  }
  StackModel c(ProcessKind::kEnvoy, EbpfTarget::kOffCpu, 100, 6);
  bool differs = false;
  for (size_t i = 0; i < c.stacks().size(); ++i)
    differs |= a.stacks()[i].user != c.stacks()[i].user;
  EXPECT_TRUE(differs);
}

TEST(StackModelTest, FewHotStacksAndALongTail) {
  StackModel model(ProcessKind::kJava, EbpfTarget::kOnCpu, 500, 9);
  Rng rng(1);
  std::vector<skywalking::v3::EBPFProfilingData> out;
  EXPECT_EQ(model.Sample(20'000, rng, &out), 20'000);
  int64_t total = 0;
  for (const auto& m : out) total += m.oncpu().dumpcount();
  EXPECT_EQ(total, 20'000);
  // One message per distinct stack hit, hottest first.
  absl::flat_hash_set<std::string> keys;
  for (const auto& m : out) {
    std::string key;
    for (const auto& s : m.oncpu().stacks())
      absl::StrAppend(&key, s.stacktype(), ":", s.stackid(), " ");
    EXPECT_TRUE(keys.insert(key).second);
  }
  for (size_t i = 1; i < out.size(); ++i) {
    EXPECT_GE(out[i - 1].oncpu().dumpcount(), out[i].oncpu().dumpcount());
  }
  // Zipf(1.1) over 500: the top 5 stacks hold a large share, and many stacks are rare.
  int64_t top5 = 0;
  for (size_t i = 0; i < 5 && i < out.size(); ++i) top5 += out[i].oncpu().dumpcount();
  EXPECT_GT(top5, total / 4);
  size_t rare = std::count_if(out.begin(), out.end(),
                              [](const auto& m) { return m.oncpu().dumpcount() <= 10; });
  EXPECT_GT(rare, out.size() / 3);
}

TEST(StackModelTest, MessagesLookLikeRovers) {
  StackModel on(ProcessKind::kGo, EbpfTarget::kOnCpu, 100, 2);
  for (size_t i = 0; i < on.stacks().size(); ++i) {
    skywalking::v3::EBPFProfilingData m = on.Message(i, 3, 0);
    ASSERT_TRUE(m.has_oncpu());
    EXPECT_FALSE(m.has_task());
    EXPECT_EQ(m.oncpu().dumpcount(), 3);
    const auto& stacks = m.oncpu().stacks();
    ASSERT_GE(stacks.size(), 1);
    // Kernel stack first, then the user stack.
    EXPECT_EQ(stacks.rbegin()->stacktype(), skywalking::v3::PROCESS_USER_SPACE);
    if (stacks.size() == 2) {
      EXPECT_EQ(stacks[0].stacktype(), skywalking::v3::PROCESS_KERNEL_SPACE);
    }
    EXPECT_EQ(stacks.rbegin()->stackid(), on.stacks()[i].user_id);
  }
  StackModel off(ProcessKind::kJava, EbpfTarget::kOffCpu, 100, 2);
  Rng rng(4);
  std::vector<skywalking::v3::EBPFProfilingData> out;
  off.Sample(1000, rng, &out);
  int64_t switches = 0;
  for (const auto& m : out) {
    ASSERT_TRUE(m.has_offcpu());
    EXPECT_EQ(m.offcpu().stacks_size(), 2);
    EXPECT_GT(m.offcpu().switchcount(), 0);
    EXPECT_GT(m.offcpu().duration(), 0);
    switches += m.offcpu().switchcount();
  }
  EXPECT_EQ(switches, 1000);
}

}  // namespace
}  // namespace stackhouse::sim
