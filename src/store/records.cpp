#include "store/records.h"

namespace sc::store {

std::string_view userKindName(UserKind k) {
    return k == UserKind::Email ? "email" : "sms";
}

namespace {
struct StateName {
    RecipientState state;
    std::string_view name;
};
constexpr StateName kStateNames[] = {
    {RecipientState::Queued, "queued"},         {RecipientState::Sending, "sending"},
    {RecipientState::Delivered, "delivered"},   {RecipientState::Deferred, "deferred"},
    {RecipientState::Bounced, "bounced"},       {RecipientState::Expired, "expired"},
    {RecipientState::Suppressed, "suppressed"}, {RecipientState::Sandbox, "sandbox"},
    {RecipientState::Submitted, "submitted"},   {RecipientState::Undeliverable, "undeliverable"},
    {RecipientState::Rejected, "rejected"},     {RecipientState::Failed, "failed"},
};
}  // namespace

std::string_view recipientStateName(RecipientState s) {
    for (const auto& n : kStateNames)
        if (n.state == s) return n.name;
    return "queued";  // unreachable: every enumerator is in the table
}

std::optional<RecipientState> parseRecipientState(std::string_view text) {
    for (const auto& n : kStateNames)
        if (n.name == text) return n.state;
    return std::nullopt;
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
