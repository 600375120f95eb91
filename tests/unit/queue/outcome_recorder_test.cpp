// The recorder's event payload: written directly for plain text, through nlohmann otherwise, and
// the same bytes either way (the webhooks' outbox reads these rows).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "queue/outcome_recorder.h"

namespace sc::queue {
namespace {

using store::RecipientState;

// What the payload was before it was written directly: nlohmann's tree, dumped.
std::string viaNlohmann(const DeliveryOutcome& o, const AttemptContext& c,
                        const store::OutcomeWrite& w, int64_t at) {
    nlohmann::json payload{{"state", store::recipientStateName(w.state)},
                           {"messageId", c.messageId},
                           {"apiUser", c.apiUserName},
                           {"recipient", c.address},
                           {"attempt", c.attempt},
                           {"timestamp", at}};
    if (o.replyCode != 0) payload["replyCode"] = o.replyCode;
    if (!o.enhancedCode.empty()) payload["enhancedCode"] = o.enhancedCode;
    if (!o.replyText.empty()) payload["reply"] = w.attempt.replyText;
    if (w.state == RecipientState::Sandbox) payload["sandbox"] = true;
    return payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Case {
    RecipientState state;
    int replyCode;
    std::string enhancedCode;
    std::string reply;
    std::string address;
};

TEST(OutcomeRecorderPayload, IsWhatNlohmannWritesForPlainAndOtherText) {
    const std::vector<Case> cases = {
        {RecipientState::Submitted, 0, "", "submit_sm_resp OK", "+14155550100"},
        {RecipientState::Delivered, 250, "2.0.0", "250 2.0.0 Ok: queued as 4F", "b@x.io"},
        {RecipientState::Sandbox, 0, "", "", "+14155550100"},
        {RecipientState::Deferred, 451, "4.7.1", "try \"later\" \\ please", "c@x.io"},
        {RecipientState::Bounced, 550, "5.1.1", "unknown user\r\n", "d@x.io"},
        {RecipientState::Failed, 0x45, "", "Zurückgewiesen \xE2\x82\xAC", "+4930123456"},
        {RecipientState::Failed, 8, "", "bad \xFF utf-8", "+4930123456"},
        {RecipientState::Expired, 0, "", "del\x7F", "e@x.io"},
    };
    for (const auto& k : cases) {
        DeliveryOutcome o;
        o.replyCode = k.replyCode;
        o.enhancedCode = k.enhancedCode;
        o.replyText = k.reply;
        AttemptContext c;
        c.attempt = 3;
        c.messageId = "20261205abc";
        c.apiUserName = "acme_sms";
        c.address = k.address;
        store::OutcomeWrite w;
        w.state = k.state;
        w.attempt.replyText = k.reply;
        EXPECT_EQ(OutcomeRecorder::eventPayload(o, c, w, 1764900000123),
                  viaNlohmann(o, c, w, 1764900000123))
            << k.reply;
    }
}

// SendCloud's webhook event names (docs/delivery.md "Events"); an SMS submit has none.
TEST(OutcomeRecorderEvents, AreSendCloudsEventNamesAndNoneForAnSmsSubmit) {
    using store::UserKind;
    EXPECT_EQ(OutcomeRecorder::eventKindFor(RecipientState::Submitted, UserKind::Sms), "");
    EXPECT_EQ(OutcomeRecorder::eventKindFor(RecipientState::Delivered, UserKind::Sms), "deliver");
    EXPECT_EQ(OutcomeRecorder::eventKindFor(RecipientState::Deferred, UserKind::Sms),
              "workererror");
    EXPECT_EQ(OutcomeRecorder::eventKindFor(RecipientState::Failed, UserKind::Sms), "delivererror");
    EXPECT_EQ(OutcomeRecorder::eventKindFor(RecipientState::Sandbox, UserKind::Sms), "deliver");
    EXPECT_EQ(OutcomeRecorder::eventKindFor(RecipientState::Delivered, UserKind::Email), "deliver");
    EXPECT_EQ(OutcomeRecorder::eventKindFor(RecipientState::Deferred, UserKind::Email),
              "soft_bounce");
    EXPECT_EQ(OutcomeRecorder::eventKindFor(RecipientState::Bounced, UserKind::Email), "invalid");
}

}  // namespace
}  // namespace sc::queue
