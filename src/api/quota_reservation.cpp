#include "api/quota_reservation.h"

#include <utility>

namespace sc::api {

std::optional<QuotaReservation> QuotaReservation::reserve(policy::DailyQuota& quota,
                                                          audit::AuditRecorder& usage,
                                                          QuotaHolder holder, int64_t dailyQuota,
                                                          int64_t count, int64_t atMs) {
    if (!quota.tryReserve(holder.userId, dailyQuota, count)) return std::nullopt;
    usage.countUsage(holder.userId, holder.accountId, holder.userName,
                     {.requests = 1, .recipients = count}, atMs);
    return QuotaReservation(quota, usage, std::move(holder), count, atMs);
}

QuotaReservation::QuotaReservation(policy::DailyQuota& quota, audit::AuditRecorder& usage,
                                   QuotaHolder holder, int64_t count, int64_t atMs)
    : quota_(&quota),
      usage_(&usage),
      holder_(std::move(holder)),
      count_(count),
      countedAtMs_(atMs) {}

QuotaReservation::QuotaReservation(QuotaReservation&& other) noexcept
    : quota_(other.quota_),
      usage_(other.usage_),
      holder_(std::move(other.holder_)),
      count_(other.count_),
      countedAtMs_(other.countedAtMs_),
      open_(std::exchange(other.open_, false)) {}

void QuotaReservation::refund() {
    if (!std::exchange(open_, false)) return;
    quota_->release(holder_.userId, count_);
    usage_->countUsage(holder_.userId, holder_.accountId, holder_.userName, {.recipients = -count_},
                       countedAtMs_);
}

}  // namespace sc::api
