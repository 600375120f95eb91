#pragma once
// The SQLite QueueStore as SqliteBackend opens it: sharing the backend's IntakeFirst, so that the
// queue's writes give way to the intake writer's (intake_first.h). store/queue_store.h declares
// the plain opener that tests use on their own.

#include <memory>
#include <string>

#include "store/queue_store.h"
#include "store/sqlite/intake_first.h"

namespace sc::store::sqlite {

std::unique_ptr<QueueStore> openSqliteQueueStore(const std::string& path, int busyTimeoutMs,
                                                 IntakeFirst& intakeFirst);

}  // namespace sc::store::sqlite
