#include "model/profile.h"

namespace stackhouse::model {

const char* ProfileTaskOperationName(ProfileTaskOperation operation) {
  return operation == ProfileTaskOperation::kExecutionFinished ? "EXECUTION_FINISHED" : "NOTIFIED";
}

}  // namespace stackhouse::model
