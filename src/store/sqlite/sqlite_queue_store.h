#pragma once
// The SQLite QueueStore as SqliteBackend opens it: sharing the backend's IntakeFirst, so that the
// queue's writes give way to the intake writer's (intake_first.h), and with onOpen run on each of
// its connections (the backend hands their commits to the message store's checkpointer:
// SqliteMessageStore::checkpointCommitsOf). store/queue_store.h declares the plain opener that
// tests use on their own.

#include <memory>
#include <string>

#include "store/queue_store.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/intake_first.h"

namespace sc::store::sqlite {

std::unique_ptr<QueueStore> openSqliteQueueStore(const std::string& path, int busyTimeoutMs,
                                                 IntakeFirst& intakeFirst,
                                                 ConnectionPool::OnOpen onOpen = {});

}  // namespace sc::store::sqlite
