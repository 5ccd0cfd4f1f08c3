#pragma once

#include "absl/status/statusor.h"
#include "storage/pg/pg_pool.h"

namespace stackhouse::storage::pg {

// The schema version this build writes and reads.
int LatestSchemaVersion();

// Creates or upgrades the schema in the pool's database to LatestSchemaVersion() and returns
// the version found before (0 for an empty database). Each migration runs once, in order, in
// one transaction under a transaction-scoped advisory lock, so nodes that start at the same
// time wait for each other and the last ones find nothing to do; running it again is a no-op.
// FailedPrecondition when the database holds a newer version than this build knows (an
// older node must not write into a newer schema). `target` (tests of a migration) stops at
// an older version.
absl::StatusOr<int> MigrateSchema(Pool& pool, int target = LatestSchemaVersion());

}  // namespace stackhouse::storage::pg
