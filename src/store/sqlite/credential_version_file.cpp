#include "store/sqlite/credential_version_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace sc::store::sqlite {

namespace {

// Other processes must see increments made through their own mapping of the same page.
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);

std::string errnoText(const char* what, const std::string& path) {
    return std::string(what).append(" ").append(path).append(": ").append(std::strerror(errno));
}

}  // namespace

std::string CredentialVersionFile::pathFor(const std::string& databasePath) {
    return databasePath + "-credver";
}

CredentialVersionFile::CredentialVersionFile(const std::string& databasePath,
                                             const ErrorSink& onError)
    : onError_(onError) {
    const std::string path = pathFor(databasePath);
    struct stat db {};
    const bool haveDb = ::stat(databasePath.c_str(), &db) == 0;
    const mode_t mode = haveDb ? (db.st_mode & 0777) : 0600;
    bool created = true;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {
        created = false;
        fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    }
    if (fd < 0) {
        unavailableReason_ = errnoText("cannot open", path);
        return;
    }
    // open() applied the umask; the database's own mode is what the operator chose. As root
    // (an operator command run with sudo) the file must stay usable by the server's user.
    if (created && haveDb) {
        if (::fchmod(fd, mode) != 0) {
            unavailableReason_ = errnoText("cannot chmod", path);
        } else if (::geteuid() == 0 && ::fchown(fd, db.st_uid, db.st_gid) != 0) {
            unavailableReason_ = errnoText("cannot chown", path);
        }
    }
    struct stat st {};
    if (unavailableReason_.empty() && ::fstat(fd, &st) != 0) {
        unavailableReason_ = errnoText("cannot stat", path);
    } else if (unavailableReason_.empty() && !S_ISREG(st.st_mode)) {
        unavailableReason_ = path + " is not a regular file";
    } else if (unavailableReason_.empty() &&
               (st.st_size < static_cast<off_t>(sizeof(uint64_t)) || st.st_blocks == 0)) {
        // Allocated, not merely sized: ftruncate() would leave a hole, and the first store
        // through the mapping would then need a block from the file system; on a full disk the
        // kernel answers that with SIGBUS, which kills the process (docs/operations.md, "Disk
        // full"). posix_fallocate() only grows, never shrinks: several processes may race here,
        // and a counter already written must survive. A new file reads as version 0. A file
        // without blocks (a hole, as older versions left it) has never been stored through, so
        // that glibc's emulation on a file system without fallocate (a byte written per block)
        // cannot overwrite a counter another process just moved.
        const int rc = ::posix_fallocate(fd, 0, sizeof(uint64_t));
        if (rc != 0) {
            errno = rc;
            unavailableReason_ = errnoText("cannot allocate", path);
        }
    }
    if (unavailableReason_.empty()) {
        void* map = ::mmap(nullptr, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            unavailableReason_ = errnoText("cannot map", path);
        } else {
            counter_ = static_cast<uint64_t*>(map);
        }
    }
    ::close(fd);
}

CredentialVersionFile::~CredentialVersionFile() {
    if (counter_ != nullptr) ::munmap(counter_, sizeof(uint64_t));
}

std::optional<uint64_t> CredentialVersionFile::read() const {
    if (counter_ == nullptr) return std::nullopt;
    return std::atomic_ref<uint64_t>(*counter_).load(std::memory_order_acquire);
}

void CredentialVersionFile::bump() {
    if (counter_ != nullptr) {
        std::atomic_ref<uint64_t>(*counter_).fetch_add(1, std::memory_order_acq_rel);
    } else if (onError_) {
        onError_("credential change not signalled to running servers (" + unavailableReason_ +
                 "); their credential caches see it only when their entries expire");
    }
}

}  // namespace sc::store::sqlite
