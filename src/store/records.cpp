#include "store/records.h"

#include <cstddef>
#include <iterator>

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
static_assert(std::size(kOutcomeNames) == std::size(kAuthOutcomes),
              "every outcome has its text, and kAuthOutcomes lists them all");

constexpr Named<RecipientState> kStateNames[] = {
    {RecipientState::Queued, "queued"},         {RecipientState::Sending, "sending"},
    {RecipientState::Delivered, "delivered"},   {RecipientState::Deferred, "deferred"},
    {RecipientState::Bounced, "bounced"},       {RecipientState::Expired, "expired"},
    {RecipientState::Suppressed, "suppressed"}, {RecipientState::Sandbox, "sandbox"},
    {RecipientState::Submitted, "submitted"},   {RecipientState::Undeliverable, "undeliverable"},
    {RecipientState::Rejected, "rejected"},     {RecipientState::Failed, "failed"},
};
}  // namespace

// Each enum's pair of conversions over its table, under the names records.h declares.
#define SC_TEXT_CONVERSIONS(Enum, table, nameFunction, parseFunction) \
    std::string_view nameFunction(Enum value) {                       \
        return nameOf(table, value);                                  \
    }                                                                 \
    std::optional<Enum> parseFunction(std::string_view text) {        \
        return parse(table, text);                                    \
    }

SC_TEXT_CONVERSIONS(UserKind, kKindNames, userKindName, parseUserKind)
SC_TEXT_CONVERSIONS(RecipientRole, kRoleNames, recipientRoleName, parseRecipientRole)
SC_TEXT_CONVERSIONS(AuthApi, kApiNames, authApiName, parseAuthApi)
SC_TEXT_CONVERSIONS(AuthOutcome, kOutcomeNames, authOutcomeName, parseAuthOutcome)
SC_TEXT_CONVERSIONS(RecipientState, kStateNames, recipientStateName, parseRecipientState)
#undef SC_TEXT_CONVERSIONS

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
