#include "store/records.h"

#include <cstddef>

namespace sc::store {

namespace {

// One table per enum: the only place its text forms are written.
template <class E>
struct Named {
    E value;
    std::string_view name;
};

template <class E, size_t N>
std::string_view nameOf(const Named<E> (&table)[N], E value) {
    for (const auto& n : table)
        if (n.value == value) return n.name;
    return table[0].name;  // unreachable: every enumerator is in its table
}

template <class E, size_t N>
std::optional<E> parse(const Named<E> (&table)[N], std::string_view text) {
    for (const auto& n : table)
        if (n.name == text) return n.value;
    return std::nullopt;
}

constexpr Named<UserKind> kKindNames[] = {{UserKind::Email, "email"}, {UserKind::Sms, "sms"}};

constexpr Named<RecipientRole> kRoleNames[] = {
    {RecipientRole::To, "to"}, {RecipientRole::Cc, "cc"}, {RecipientRole::Bcc, "bcc"}};

constexpr Named<AuthApi> kApiNames[] = {
    {AuthApi::Email, "email"}, {AuthApi::Sms, "sms"}, {AuthApi::Console, "console"}};

constexpr Named<AuthOutcome> kOutcomeNames[] = {
    {AuthOutcome::Success, "success"}, {AuthOutcome::Failure, "failure"},
    {AuthOutcome::Locked, "locked"},   {AuthOutcome::RateLimited, "rate_limited"},
    {AuthOutcome::Quota, "quota"},     {AuthOutcome::Forbidden, "forbidden"},
};

constexpr Named<RecipientState> kStateNames[] = {
    {RecipientState::Queued, "queued"},         {RecipientState::Sending, "sending"},
    {RecipientState::Delivered, "delivered"},   {RecipientState::Deferred, "deferred"},
    {RecipientState::Bounced, "bounced"},       {RecipientState::Expired, "expired"},
    {RecipientState::Suppressed, "suppressed"}, {RecipientState::Sandbox, "sandbox"},
    {RecipientState::Submitted, "submitted"},   {RecipientState::Undeliverable, "undeliverable"},
    {RecipientState::Rejected, "rejected"},     {RecipientState::Failed, "failed"},
};
}  // namespace

std::string_view userKindName(UserKind k) {
    return nameOf(kKindNames, k);
}
std::optional<UserKind> parseUserKind(std::string_view text) {
    return parse(kKindNames, text);
}

std::string_view recipientRoleName(RecipientRole r) {
    return nameOf(kRoleNames, r);
}
std::optional<RecipientRole> parseRecipientRole(std::string_view text) {
    return parse(kRoleNames, text);
}

std::string_view authApiName(AuthApi a) {
    return nameOf(kApiNames, a);
}
std::optional<AuthApi> parseAuthApi(std::string_view text) {
    return parse(kApiNames, text);
}

std::string_view authOutcomeName(AuthOutcome o) {
    return nameOf(kOutcomeNames, o);
}
std::optional<AuthOutcome> parseAuthOutcome(std::string_view text) {
    return parse(kOutcomeNames, text);
}

std::string_view recipientStateName(RecipientState s) {
    return nameOf(kStateNames, s);
}
std::optional<RecipientState> parseRecipientState(std::string_view text) {
    return parse(kStateNames, text);
}

bool isFinal(RecipientState s) {
    switch (s) {
        case RecipientState::Queued:
        case RecipientState::Sending:
        case RecipientState::Deferred:
        case RecipientState::Submitted:
            return false;
        default:
            return true;
    }
}

}  // namespace sc::store
