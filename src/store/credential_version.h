#pragma once
// CredentialVersion: a counter shared by every process and node using one store, moved after
// every committed change to an API user or its keys. Credential caches compare it before and
// after a read to know, without a read of their own, that their copy is current. The SQLite
// backend keeps it in a shared-mapped file next to the database
// (sqlite/credential_version_file.h); a PostgreSQL backend would keep a process-local atomic
// counter that a LISTEN connection moves on each NOTIFY sent by bump().

#include <cstdint>
#include <optional>

namespace sc::store {

class CredentialVersion {
public:
    virtual ~CredentialVersion() = default;

    // The current value; nullopt when it cannot be known, and then nothing may be cached.
    // Cheap enough to read on every request (no I/O).
    virtual std::optional<uint64_t> read() const = 0;
    // Call after a credential change committed (or may have): a spurious move costs readers one
    // cache miss, a missed one would serve a stale user.
    virtual void bump() = 0;
};

}  // namespace sc::store
