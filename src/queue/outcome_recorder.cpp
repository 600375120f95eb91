#include "queue/outcome_recorder.h"

#include <nlohmann/json.hpp>

#include "queue/smsc_id.h"

namespace sc::queue {

using store::RecipientState;

std::chrono::milliseconds RetryPolicy::delayAfter(int attempt) const {
    std::chrono::milliseconds d = first;
    for (int i = 1; i < attempt && d < max; ++i) d *= 2;
    return d < max ? d : max;
}

OutcomeRecorder::OutcomeRecorder(store::QueueStore& store, Clock& clock, RetryPolicy policy)
    : store_(store), clock_(clock), policy_(policy) {}

RecipientState OutcomeRecorder::stateFor(const DeliveryOutcome& o, const AttemptContext& c) const {
    using K = DeliveryOutcome::Kind;
    switch (o.kind) {
        case K::Delivered:
            return RecipientState::Delivered;
        case K::Bounced:
            return RecipientState::Bounced;
        case K::Sandbox:
            return RecipientState::Sandbox;
        case K::Submitted:
            return RecipientState::Submitted;
        case K::Failed:
            return RecipientState::Failed;
        case K::Deferred:
            break;
    }
    // Postfix's rule: a deferral once the recipient has waited the queue lifetime is final.
    const int64_t at = o.atMs != 0 ? o.atMs : clock_.nowMillis();
    if (at - c.acceptedAtMs >= policy_.queueLifetime.count()) return RecipientState::Expired;
    return RecipientState::Deferred;
}

// docs/delivery.md "Events": SendCloud's webhook event names; empty for a change no SendCloud
// webhook reports.
std::string OutcomeRecorder::eventKindFor(RecipientState s, store::UserKind channel) {
    const bool sms = channel == store::UserKind::Sms;
    switch (s) {
        case RecipientState::Delivered:
        case RecipientState::Sandbox:
            return "deliver";
        case RecipientState::Deferred:
            return sms ? "workererror" : "soft_bounce";
        case RecipientState::Submitted:
            // SendCloud's SMS webhooks have no event for it (request, deliver, workererror,
            // delivererror, reply): the SMSC's acceptance is in the attempt log, and the receipt
            // that settles the SMS is the event. No row nobody can subscribe to, at the full
            // submit rate (bench/README.md: about a tenth of the SMS drain).
            return "";
        case RecipientState::Bounced:
        case RecipientState::Expired:
        case RecipientState::Suppressed:
            return sms ? "delivererror" : "invalid";
        default:
            return sms ? "delivererror" : "invalid";
    }
}

namespace {
std::string_view outcomeName(DeliveryOutcome::Kind k) {
    using K = DeliveryOutcome::Kind;
    switch (k) {
        case K::Delivered:
            return "delivered";
        case K::Deferred:
            return "deferred";
        case K::Bounced:
            return "bounced";
        case K::Sandbox:
            return "sandbox";
        case K::Submitted:
            return "submitted";
        case K::Failed:
            return "failed";
    }
    return "deferred";
}
}  // namespace

namespace {

// Printable ASCII without '"' or '\\': written into JSON as it is.
bool plainJsonText(std::string_view s) {
    for (const char ch : s) {
        if (ch < 0x20 || ch > 0x7E || ch == '"' || ch == '\\') return false;
    }
    return true;
}

void appendPlainMember(std::string& out, std::string_view key, std::string_view value) {
    out.append(out.size() > 1 ? ",\"" : "\"")
        .append(key)
        .append("\":\"")
        .append(value)
        .append("\"");
}

void appendNumberMember(std::string& out, std::string_view key, int64_t value) {
    out.append(out.size() > 1 ? ",\"" : "\"")
        .append(key)
        .append("\":")
        .append(std::to_string(value));
}

}  // namespace

// The event's payload. Written directly, byte for byte as nlohmann's dump() writes it (members
// in its sorted key order), when every text is printable ASCII, which is nearly always (ids,
// user names, addresses, SMSC and SMTP replies): building nlohmann's tree cost a tenth of the
// recorder's time. Anything else (non-ASCII, quotes, invalid UTF-8) goes through nlohmann.
std::string OutcomeRecorder::eventPayload(const DeliveryOutcome& o, const AttemptContext& c,
                                          const store::OutcomeWrite& w, int64_t at) {
    const std::string_view state = store::recipientStateName(w.state);
    const bool sandbox = w.state == RecipientState::Sandbox;
    const std::string& reply = w.attempt.replyText;
    if (plainJsonText(c.apiUserName) && plainJsonText(o.enhancedCode) &&
        plainJsonText(c.messageId) && plainJsonText(c.address) && plainJsonText(reply) &&
        plainJsonText(state)) {
        std::string out;
        out.reserve(160 + c.apiUserName.size() + c.messageId.size() + c.address.size() +
                    reply.size());
        out.push_back('{');
        appendPlainMember(out, "apiUser", c.apiUserName);
        appendNumberMember(out, "attempt", c.attempt);
        if (!o.enhancedCode.empty()) appendPlainMember(out, "enhancedCode", o.enhancedCode);
        appendPlainMember(out, "messageId", c.messageId);
        appendPlainMember(out, "recipient", c.address);
        if (!o.replyText.empty()) appendPlainMember(out, "reply", reply);
        if (o.replyCode != 0) appendNumberMember(out, "replyCode", o.replyCode);
        if (sandbox) out.append(",\"sandbox\":true");
        appendPlainMember(out, "state", state);
        appendNumberMember(out, "timestamp", at);
        out.push_back('}');
        return out;
    }
    nlohmann::json payload{{"state", state},           {"messageId", c.messageId},
                           {"apiUser", c.apiUserName}, {"recipient", c.address},
                           {"attempt", c.attempt},     {"timestamp", at}};
    if (o.replyCode != 0) payload["replyCode"] = o.replyCode;
    if (!o.enhancedCode.empty()) payload["enhancedCode"] = o.enhancedCode;
    if (!o.replyText.empty()) payload["reply"] = reply;
    if (sandbox) payload["sandbox"] = true;
    // replace: a reply with invalid UTF-8 must not make the event unwritable.
    return payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

store::OutcomeWrite OutcomeRecorder::writeFor(const DeliveryOutcome& o,
                                              const AttemptContext& c) const {
    const int64_t at = o.atMs != 0 ? o.atMs : clock_.nowMillis();
    store::OutcomeWrite w;
    w.recipientId = o.recipientId;
    w.recipientKey = c.recipientKey;
    w.state = stateFor(o, c);
    if (w.state == RecipientState::Deferred) {
        const auto wait = o.retryAfter ? *o.retryAfter : policy_.delayAfter(c.attempt);
        w.nextAttemptAtMs = at + wait.count();
    }
    w.attempt.atMs = at;
    w.attempt.outcome = w.state == RecipientState::Expired ? "expired" : outcomeName(o.kind);
    w.attempt.remoteHost = o.remoteHost;
    w.attempt.remoteIp = o.remoteIp;
    w.attempt.replyCode = o.replyCode;
    w.attempt.enhancedCode = o.enhancedCode;
    w.attempt.replyText = o.replyText.substr(0, 512);
    w.attempt.tlsVersion = o.tlsVersion;
    w.attempt.tlsCipher = o.tlsCipher;
    for (size_t i = 0; i < o.smscMessageIds.size(); ++i) {
        if (i > 0) w.attempt.smscMessageId.push_back(',');
        w.attempt.smscMessageId.append(normaliseSmscId(o.smscMessageIds[i]));
    }
    w.eventKind = eventKindFor(w.state, c.channel);
    w.accountId = c.accountId;
    if (!w.eventKind.empty()) w.eventPayloadJson = eventPayload(o, c, w, at);
    if (o.kind == DeliveryOutcome::Kind::Submitted) {
        w.route = o.route;
        for (const auto& id : o.smscMessageIds) w.smscIdForms.push_back(smscIdForms(id));
    }
    return w;
}

Result<RecipientState, store::StoreError> OutcomeRecorder::record(const DeliveryOutcome& o,
                                                                  const AttemptContext& c) {
    Recording one{o, c};
    auto results = recordAll(std::span<const Recording>(&one, 1));
    return std::move(results.front());
}

std::vector<Result<RecipientState, store::StoreError>> OutcomeRecorder::recordAll(
    std::span<const Recording> recordings) {
    std::vector<store::OutcomeWrite> writes;
    writes.reserve(recordings.size());
    for (const auto& r : recordings) writes.push_back(writeFor(r.outcome, r.context));
    std::vector<Result<RecipientState, store::StoreError>> results;
    results.reserve(recordings.size());
    auto written = store_.recordOutcomes(writes);
    if (!written.ok() && onError_) {
        // The scheduler keeps them and writes them again; the operator should still know that
        // delivery state lags behind (docs/operations.md, "Disk full").
        if (const auto line = outcomeFailureLog_.admit(); line.write) {
            std::string text = std::string("delivery outcomes not stored yet (")
                                   .append(std::to_string(writes.size()))
                                   .append(" waiting): ")
                                   .append(written.error().message);
            if (line.omitted > 0) {
                text.append(" (")
                    .append(std::to_string(line.omitted))
                    .append(" more failed writes since the last such line)");
            }
            onError_(text);
        }
    }
    for (size_t i = 0; i < recordings.size(); ++i) {
        if (!written.ok()) {
            results.push_back(fail(written.error()));
        } else if (!written.value()[i]) {
            results.push_back(
                fail(store::StoreError(store::StoreError::Kind::NotFound, "no such recipient")));
        } else {
            if (observer_) observer_(recordings[i].outcome, writes[i].state, recordings[i].context);
            results.push_back(writes[i].state);
        }
    }
    return results;
}

void OutcomeRecorder::receipt(SmsReceipt r) {
    store::ReceiptWrite w;
    w.route = std::move(r.route);
    auto forms = smscIdForms(r.smscMessageId);
    w.smscId = std::move(forms.front());
    w.otherForms.assign(std::make_move_iterator(forms.begin() + 1),
                        std::make_move_iterator(forms.end()));
    w.stat = std::move(r.stat);
    w.errorCode = std::move(r.errorCode);
    w.atMs = r.atMs != 0 ? r.atMs : clock_.nowMillis();
    auto result = store_.recordReceipt(w);
    if (!result.ok() && onError_) {
        onError_(std::string("delivery receipt not stored: ").append(result.error().message));
    }
}

void OutcomeRecorder::inbound(InboundSms sms) {
    store::InboundRecord rec;
    rec.route = std::move(sms.route);
    rec.from = std::move(sms.from);
    rec.to = std::move(sms.to);
    rec.text = std::move(sms.text);
    rec.atMs = sms.atMs != 0 ? sms.atMs : clock_.nowMillis();
    auto result = store_.recordInbound(rec);
    if (!result.ok() && onError_) {
        onError_(std::string("inbound SMS not stored: ").append(result.error().message));
    }
}

}  // namespace sc::queue
