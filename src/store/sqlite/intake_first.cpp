#include "store/sqlite/intake_first.h"

namespace sc::store::sqlite {

void IntakeFirst::intakeWants() {
    std::lock_guard lock(mutex_);
    intakeWants_ = true;
}

void IntakeFirst::intakeDone() {
    {
        std::lock_guard lock(mutex_);
        intakeWants_ = false;
        ++intakeBatches_;
    }
    done_.notify_all();
}

void IntakeFirst::yieldToIntake() {
    std::unique_lock lock(mutex_);
    if (!intakeWants_) return;
    ++yields_;
    // One finished intake transaction is enough: if the intake wants the lock again at once, it
    // waits for this queue transaction, and the two take turns.
    const uint64_t seen = intakeBatches_;
    done_.wait_for(lock, maxYield_, [&] { return !intakeWants_ || intakeBatches_ != seen; });
}

uint64_t IntakeFirst::yields() const {
    std::lock_guard lock(mutex_);
    return yields_;
}

bool IntakeFirst::intakeWaiting() const {
    std::lock_guard lock(mutex_);
    return intakeWants_;
}

}  // namespace sc::store::sqlite
