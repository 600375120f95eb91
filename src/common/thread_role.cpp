#include "common/thread_role.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace sc {

namespace {
// Lower than the default 0 by enough that the kernel's weights differ about tenfold (each step
// is ~1.25x); not 19, which would leave delivery a trickle under a steady API load.
constexpr int kBackgroundNice = 10;
}  // namespace

void enterThreadRole(const char* name, ThreadPriority priority) {
    std::string shortName(name, strnlen(name, 15));
    (void)pthread_setname_np(pthread_self(), shortName.c_str());
    if (priority == ThreadPriority::Background) {
        // On Linux a nice value belongs to the thread, not the process (setpriority(2), "BUGS"):
        // the thread id as PRIO_PROCESS's "who" changes this thread alone. Lowering it needs no
        // privilege.
        (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kBackgroundNice);
    }
}

}  // namespace sc
