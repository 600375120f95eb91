#pragma once
// QuotaReservation: a send's recipients held against its user's daily quota
// (policy::DailyQuota) and counted in the user's usage from the moment they are reserved, so
// that concurrent sends cannot together pass the quota. commit() once the store has the message;
// a reservation that ends uncommitted (a refused enqueue, an early return, a callback dropped
// unrun) gives the recipients back to the quota and takes them out of the usage, at the instant
// they were counted so that the correction lands in the same hour's row.

#include <cstdint>
#include <optional>
#include <string>

#include "audit/audit_recorder.h"
#include "policy/daily_quota.h"

namespace sc::api {

// Whose quota and usage a reservation counts against.
struct QuotaHolder {
    int64_t userId = 0;
    int64_t accountId = 0;
    std::string userName;
};

class QuotaReservation {
public:
    // Reserves `count` recipients of `holder`'s `dailyQuota` (<= 0: unlimited) and counts the
    // request and its recipients in the usage at `atMs`; nullopt, with nothing reserved or
    // counted, when they would exceed the quota.
    static std::optional<QuotaReservation> reserve(policy::DailyQuota& quota,
                                                   audit::AuditRecorder& usage, QuotaHolder holder,
                                                   int64_t dailyQuota, int64_t count, int64_t atMs);

    QuotaReservation(QuotaReservation&& other) noexcept;
    QuotaReservation& operator=(QuotaReservation&&) = delete;
    QuotaReservation(const QuotaReservation&) = delete;
    QuotaReservation& operator=(const QuotaReservation&) = delete;
    ~QuotaReservation() { refund(); }

    // The recipients are used: nothing is given back.
    void commit() { open_ = false; }
    // Gives the recipients back now, rather than when the reservation ends (before an answer
    // that a caller may follow with a look at the usage). Does nothing the second time.
    void refund();

    int64_t count() const { return count_; }

private:
    QuotaReservation(policy::DailyQuota& quota, audit::AuditRecorder& usage, QuotaHolder holder,
                     int64_t count, int64_t atMs);

    policy::DailyQuota* quota_;
    audit::AuditRecorder* usage_;
    QuotaHolder holder_;
    int64_t count_;
    int64_t countedAtMs_;
    // Reserved, neither committed nor refunded (false in a moved-from reservation).
    bool open_ = true;
};

}  // namespace sc::api
