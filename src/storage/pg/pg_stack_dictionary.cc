#include "storage/pg/pg_stack_dictionary.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/saturating.h"
#include "common/status_macros.h"
#include "storage/database.h"
#include "storage/key_codec.h"

namespace stackhouse::storage::pg {
namespace {

constexpr size_t kMaxKnownStacks = 1 << 20;

std::string EncodeFrames(const std::vector<std::string>& frames) {
  std::string out;
  for (const std::string& frame : frames) AppendString(&out, frame);
  return out;
}

std::string Digest(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace

// Sorted by digest so that nodes inserting overlapping stacks lock rows in the same order.
PgStackDictionary::PgStackDictionary(Pool* pool, std::string table, int64_t max_future_skew_ms)
    : pool_(pool),
      table_(std::move(table)),
      max_future_skew_ms_(max_future_skew_ms),
      resolve_sql_(absl::StrCat("INSERT INTO ", table_,
                                " AS k (digest, frames, stamp_ms) "
                                "SELECT d, f, $3 FROM unnest($1::bytea[], $2::bytea[]) AS t(d, f) "
                                "ORDER BY d ON CONFLICT (digest) DO UPDATE SET "
                                "stamp_ms = GREATEST(k.stamp_ms, EXCLUDED.stamp_ms) "
                                "RETURNING id, digest")),
      // In id order, for the same reason.
      retain_sql_(absl::StrCat("UPDATE ", table_, " AS k SET stamp_ms = GREATEST(k.stamp_ms, $2) ",
                               "FROM (SELECT id FROM ", table_,
                               " WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE) AS l ",
                               "WHERE k.id = l.id RETURNING k.id")),
      get_sql_(absl::StrCat("SELECT frames FROM ", table_, " WHERE id = $1")) {}

bool PgStackDictionary::FreshLocked(uint64_t id, int64_t time) const {
  auto it = stamps_.find(id);
  return it != stamps_.end() && SaturatingSub(time, it->second) < kDictionaryRefreshMs;
}

void PgStackDictionary::StampedLocked(uint64_t id, int64_t stamp_ms) {
  if (stamps_.size() >= kMaxKnownStacks) stamps_.clear();
  int64_t& stamp = stamps_.try_emplace(id, stamp_ms).first->second;
  stamp = std::max(stamp, stamp_ms);
}

absl::StatusOr<std::vector<uint64_t>> PgStackDictionary::Resolve(
    absl::Span<const PendingStack> stacks, int64_t now_ms) {
  std::vector<uint64_t> ids(stacks.size());
  // The fingerprint is public, so a crafted stack could share it: a hit also needs this
  // process's seeded hash of the frames to match (computed outside the lock).
  std::vector<size_t> checks(stacks.size());
  for (size_t i = 0; i < stacks.size(); ++i) checks[i] = absl::HashOf(*stacks[i].frames);
  std::vector<size_t> misses;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < stacks.size(); ++i) {
      auto known = known_.find(stacks[i].fingerprint);
      // A known stack whose stamp is due is put again (which also finds it again should it
      // have expired meanwhile).
      if (known != known_.end() && known->second.check == checks[i] &&
          FreshLocked(known->second.id, now_ms)) {
        ids[i] = known->second.id;
      } else {
        misses.push_back(i);
      }
    }
  }
  if (misses.empty()) return ids;

  // One row per distinct digest (a statement may not update a row twice).
  absl::flat_hash_map<std::string, std::vector<size_t>> by_digest;
  std::vector<std::string> digests, frames;
  for (size_t i : misses) {
    std::string encoded = EncodeFrames(*stacks[i].frames);
    std::string digest = Digest(encoded);
    auto [it, inserted] = by_digest.try_emplace(digest);
    if (inserted) {
      digests.push_back(std::move(digest));
      frames.push_back(std::move(encoded));
    }
    it->second.push_back(i);
  }
  Params params;
  params.BytesArray(digests).BytesArray(frames).Int64(now_ms);
  const std::string name = absl::StrCat("sh_resolve_", table_);
  // A deadlock between nodes is retried.
  absl::StatusOr<Result> r = pool_->ExecPreparedRetried(name, resolve_sql_, params);
  if (!r.ok()) return r.status();
  if (r->rows() != static_cast<int>(digests.size())) {
    return absl::InternalError(absl::StrCat("the stack dictionary returned ", r->rows(),
                                            " ids for ", digests.size(), " stacks"));
  }
  absl::MutexLock lock(&mu_);
  if (known_.size() + misses.size() > kMaxKnownStacks) known_.clear();
  for (int row = 0; row < r->rows(); ++row) {
    auto it = by_digest.find(r->Bytes(row, 1));
    if (it == by_digest.end()) {
      return absl::InternalError("the stack dictionary returned a stranger");
    }
    const auto id = static_cast<uint64_t>(r->Int64(row, 0));
    StampedLocked(id, now_ms);
    for (size_t i : it->second) {
      ids[i] = id;
      known_[stacks[i].fingerprint] = Known{id, checks[i]};
    }
  }
  return ids;
}

absl::Status PgStackDictionary::Retain(absl::Span<const uint64_t> ids, int64_t now_ms,
                                       int64_t records_time_ms) {
  const int64_t time =
      std::clamp(records_time_ms, now_ms, SaturatingAdd(now_ms, max_future_skew_ms_));
  std::vector<int64_t> due;
  {
    absl::MutexLock lock(&mu_);
    for (uint64_t id : ids) {
      if (!FreshLocked(id, time)) due.push_back(static_cast<int64_t>(id));
    }
  }
  if (due.empty()) return absl::OkStatus();
  std::sort(due.begin(), due.end());
  due.erase(std::unique(due.begin(), due.end()), due.end());
  absl::StatusOr<Result> r = pool_->ExecPreparedRetried(
      absl::StrCat("sh_retain_", table_), retain_sql_, Params().Int64Array(due).Int64(time));
  if (!r.ok()) return r.status();
  absl::flat_hash_set<int64_t> found;
  for (int row = 0; row < r->rows(); ++row) found.insert(r->Int64(row, 0));
  absl::Status status;
  absl::MutexLock lock(&mu_);
  for (int64_t id : due) {
    if (found.contains(id)) {
      StampedLocked(static_cast<uint64_t>(id), time);
    } else {
      // Expired: the next Resolve of its stack, not finding it fresh, puts it again.
      stamps_.erase(static_cast<uint64_t>(id));
      if (status.ok()) {
        status =
            absl::NotFoundError(absl::StrCat("stack ", id, " is no longer stored in ", table_));
      }
    }
  }
  return status;
}

absl::StatusOr<std::vector<std::string>> PgStackDictionary::Get(uint64_t id) const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared(absl::StrCat("sh_get_", table_), get_sql_,
                                                    Params().Int64(static_cast<int64_t>(id))));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("stack ", id, " is not stored"));
  std::vector<std::string> frames;
  KeyReader reader(r.Bytes(0, 0));
  while (!reader.Done()) {
    if (!reader.ReadString(&frames.emplace_back())) {
      return absl::DataLossError(absl::StrCat("cannot decode stored stack ", id));
    }
  }
  return frames;
}

}  // namespace stackhouse::storage::pg
