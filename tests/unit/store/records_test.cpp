#include "store/records.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sc::store {
namespace {

// Each enum's text forms: every value has one, no two share one, and each parses back.
template <class E, class Name, class Parse>
void expectRoundTrip(std::initializer_list<E> values, Name name, Parse parse) {
    std::set<std::string> seen;
    for (E v : values) {
        std::string text(name(v));
        EXPECT_FALSE(text.empty());
        EXPECT_TRUE(seen.insert(text).second) << text << " names two values";
        ASSERT_TRUE(parse(text).has_value()) << text;
        EXPECT_EQ(*parse(text), v) << text;
    }
    EXPECT_FALSE(parse("").has_value());
    EXPECT_FALSE(parse("Queued").has_value());  // case matters: the schema stores lower case
}

TEST(RecordsTest, EveryStoredKindHasOneTextThatParsesBack) {
    using S = RecipientState;
    expectRoundTrip(
        {S::Queued, S::Sending, S::Delivered, S::Deferred, S::Bounced, S::Expired, S::Suppressed,
         S::Sandbox, S::Submitted, S::Undeliverable, S::Rejected, S::Failed},
        recipientStateName, parseRecipientState);
    expectRoundTrip({RecipientRole::To, RecipientRole::Cc, RecipientRole::Bcc}, recipientRoleName,
                    parseRecipientRole);
    expectRoundTrip({UserKind::Email, UserKind::Sms}, userKindName, parseUserKind);
    expectRoundTrip({AuthApi::Email, AuthApi::Sms, AuthApi::Console}, authApiName, parseAuthApi);
    using O = AuthOutcome;
    expectRoundTrip({O::Success, O::Failure, O::Locked, O::RateLimited, O::Quota, O::Forbidden},
                    authOutcomeName, parseAuthOutcome);
}

TEST(RecordsTest, TheOldStateNamesAreGone) {
    // Migration 6 renamed 'test' to 'sandbox' and 'sent' to 'delivered'.
    EXPECT_FALSE(parseRecipientState("test").has_value());
    EXPECT_FALSE(parseRecipientState("sent").has_value());
    EXPECT_EQ(recipientStateName(RecipientState::Sandbox), "sandbox");
    EXPECT_EQ(authOutcomeName(AuthOutcome::RateLimited), "rate_limited");
}

TEST(RecordsTest, OnlyStatesNoAgentTouchesAgainAreFinal) {
    EXPECT_FALSE(isFinal(RecipientState::Queued));
    EXPECT_FALSE(isFinal(RecipientState::Deferred));
    EXPECT_FALSE(isFinal(RecipientState::Submitted));
    EXPECT_TRUE(isFinal(RecipientState::Delivered));
    EXPECT_TRUE(isFinal(RecipientState::Sandbox));
}

}  // namespace
}  // namespace sc::store
