#include "service/trace_profile_ingest.h"

#include "common/logging.h"
#include "common/status_macros.h"

namespace stackhouse::service {

absl::StatusOr<bool> TraceProfileIngest::AddGoProfile(const model::GoProfile& profile) {
  if (profile.segment_ids.empty()) {
    GetLogger("service")->warn(
        "goProfileReport: the profile of task {} has no sample labelled with a segment",
        profile.task_id);
    return false;
  }
  SH_RETURN_IF_ERROR(snapshots_->AddGoProfile(profile));
  return true;
}

}  // namespace stackhouse::service
