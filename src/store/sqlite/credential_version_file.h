#pragma once
// CredentialVersion on SQLite's side: a counter in a file next to the database, mapped shared by
// every process that opens it.

#include <cstdint>
#include <optional>
#include <string>

#include "store/credential_version.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

// The credential version of a database, shared by every process that opens it: a 64-bit
// counter in a small file next to the database (`<db>-credver`), mapped MAP_SHARED, so that a
// reader pays one atomic load and no system call, and a writer in any process (the server, an
// operator command) moves it with one atomic increment after its transaction commits. The file
// gets the database file's permissions (and, when created by root, its owner), as SQLite does
// for its -wal and -shm files. When it cannot be opened or mapped, the version is unavailable:
// readers then cache nothing (never stale data), and writers report it through `onError`,
// because a server that did map the file would see their changes only after its cache's TTL.
// Truncating, replacing or deleting the file while processes have it mapped is not supported
// (as for SQLite's -shm file): a truncated mapping faults, and a replaced one no longer carries
// the others' changes (their caches then rely on the TTL). While nothing runs, deleting it is
// harmless: it is recreated at the next open.
class CredentialVersionFile final : public CredentialVersion {
public:
    CredentialVersionFile(const std::string& databasePath, const ErrorSink& onError);
    ~CredentialVersionFile();
    CredentialVersionFile(const CredentialVersionFile&) = delete;
    CredentialVersionFile& operator=(const CredentialVersionFile&) = delete;

    static std::string pathFor(const std::string& databasePath);

    std::optional<uint64_t> read() const override;
    void bump() override;

private:
    uint64_t* counter_ = nullptr;  // in the shared mapping; null when unavailable
    std::string unavailableReason_;
    ErrorSink onError_;
};

}  // namespace sc::store::sqlite
