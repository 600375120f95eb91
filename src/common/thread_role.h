#pragma once
// Gives a thread of sendcloudd its role: a name that `top -H`, `ps -L` and a debugger show
// ("sc-http", "sc-deliver", ...), and how hard it competes for the CPU.
//
// The HTTP threads answer clients who wait; the delivery agents' threads do work that nobody waits
// on by the millisecond. When a deep queue drains, the delivery threads (TLS handshakes, DKIM
// signatures) would fill every core and the kernel would share it evenly, so a send request would
// wait behind signatures: they therefore run at a lower scheduling weight (nice +10, about a tenth
// of a normal thread's share when both want the CPU). They still get every cycle the HTTP threads
// leave idle, so a queue drains at full speed whenever the API is quiet, and never stops under a
// steady API load.
//
// Only threads that never hold a lock the send path waits for may be Background: the queue's
// scheduler, the intake writer, the checkpointer, the audit recorder and the retention worker
// hold SQLite's single write lock in turn with the intake writer, and a low-weight thread
// preempted while holding it would make the send path wait for it (priority inversion).

namespace sc {

enum class ThreadPriority {
    Normal,
    Background,  // throughput work that holds no lock the send path waits for: delivery agents
};

// Names the calling thread (cut to the 15 characters Linux keeps) and sets its priority. Best
// effort: a system that refuses either leaves the thread as it was.
void enterThreadRole(const char* name, ThreadPriority priority);

}  // namespace sc
