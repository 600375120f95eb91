#pragma once
// Schema migrations for the embedded backend. The schema version lives in PRAGMA user_version
// (in the database header, so it commits atomically with the steps that change it).

#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

struct Migration {
    int version;          // the user_version once this step is applied; 1, 2, 3, ...
    const char* summary;  // for the operator's log and error messages
    const char* sql;      // one or more statements
};

// The schema this build speaks: the version of the last migration step.
int latestSchemaVersion();

// Brings the database up to latestSchemaVersion() in one IMMEDIATE transaction, so two
// processes opening a new file at once cannot both apply a step. A no-op on an up-to-date file.
// Throws std::runtime_error when the file is newer than this build or a step fails (the
// transaction is then rolled back and the file left as it was), SQLite::Exception when the
// file cannot be read or locked.
void migrate(Connection& c);

// Test hook: migrates only up to targetVersion (never down), so that a test can build a
// database as an older build left it and check the upgrade. Throws std::invalid_argument for a
// version this build does not know.
void migrate(Connection& c, int targetVersion);

}  // namespace sc::store::sqlite
