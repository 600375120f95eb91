#include "queue/scheduler.h"
#include "common/thread_role.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

namespace sc::queue {

namespace asio = boost::asio;

void SandboxAgent::deliver(std::vector<DeliveryJob> jobs, Report report) {
    for (auto& job : jobs) {
        DeliveryOutcome o;
        o.recipientId = std::move(job.recipientId);
        o.kind = DeliveryOutcome::Kind::Sandbox;
        o.atMs = clock_.nowMillis();
        o.remoteHost = "sandbox";
        report(std::move(o));
    }
}

namespace {
// The recipient domain, lower case: what email jobs are grouped by.
std::string domainOf(std::string_view address) {
    const auto at = address.rfind('@');
    std::string d(at == std::string_view::npos ? std::string_view() : address.substr(at + 1));
    for (char& c : d)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return d;
}
}  // namespace

Scheduler::Scheduler(store::QueueStore& store, OutcomeRecorder& recorder, Clock& clock,
                     SchedulerOptions options)
    : store_(store),
      recorder_(recorder),
      clock_(clock),
      options_(std::move(options)),
      sandbox_(clock) {}

Scheduler::~Scheduler() {
    stop(std::chrono::milliseconds(0));
}

void Scheduler::setAgent(store::UserKind channel, DeliveryAgent& agent) {
    (channel == store::UserKind::Email ? emailAgent_ : smsAgent_) = &agent;
}

void Scheduler::start() {
    // Our previous life's claims come back at once rather than after their lease runs out.
    (void)store_.releaseLeases(options_.nodeId, clock_.nowMillis());
    started_ = true;
    thread_ = std::thread([this] {
        // Normal, not Background: it takes SQLite's write lock for claims and outcomes.
        enterThreadRole("sc-queue", ThreadPriority::Normal);
        auto guard = asio::make_work_guard(io_);
        io_.run();
    });
    poke();
}

void Scheduler::poke() {
    asio::post(io_, [this] {
        if (claimPosted_) return;
        claimOnce();
    });
}

size_t Scheduler::inFlight() const {
    std::lock_guard lock(mutex_);
    return inFlightCount_;
}

void Scheduler::armTimer(std::chrono::milliseconds wait) {
    timer_.expires_after(wait);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) claimOnce();
    });
}

void Scheduler::publishInFlight() {
    {
        std::lock_guard lock(mutex_);
        // A report not yet recorded is still in flight: stop() must wait for its write too.
        inFlightCount_ = pending_.size() + arrived_.size() + unrecorded_.size();
    }
    drained_.notify_all();
}

void Scheduler::recordArrived() {
    recordPlan_ = RecordPlan::None;
    writeRecordings();
    if (!stopping_ && !claimPosted_) {
        claimPosted_ = true;
        asio::post(io_, [this] { claimOnce(); });
    }
}

void Scheduler::writeRecordings() {
    if (arrived_.empty() && unrecorded_.empty()) return;
    std::vector<Recording> batch = std::move(unrecorded_);
    unrecorded_.clear();
    batch.insert(batch.end(), std::make_move_iterator(arrived_.begin()),
                 std::make_move_iterator(arrived_.end()));
    arrived_.clear();
    auto results = recorder_.recordAll(batch);
    for (size_t i = 0; i < batch.size(); ++i) {
        // NotFound: the recipient is gone (an operator removed it); writing again cannot help.
        if (!results[i].ok() && results[i].error().kind != store::StoreError::Kind::NotFound) {
            unrecorded_.push_back(std::move(batch[i]));
        }
    }
    publishInFlight();
}

void Scheduler::claimOnce() {
    claimPosted_ = false;
    claimRounds_.fetch_add(1);
    if (stopping_) return;
    if (!unrecorded_.empty()) writeRecordings();
    if (!unrecorded_.empty()) {
        // Outcomes we could not write (the store away, a full disk) come first: the outcome of
        // an attempt made now could not be written either, and a wait longer than the lease
        // would let us claim the waiting recipients again and deliver them twice. Tried again
        // at the next report or poll.
        armTimer(options_.pollInterval);
        return;
    }
    const size_t open = pending_.size();
    // Top up in claims of a quarter batch at least: each claim is a transaction, and claiming
    // the few slots each group of reports frees would cost one per handful of recipients.
    const size_t least =
        std::max<size_t>(1, std::min(options_.batchSize, options_.maxInFlight) / 4);
    if (open + least > options_.maxInFlight) return;  // the next report claims again
    store::ClaimRequest req;
    req.owner = options_.nodeId;
    req.nowMs = clock_.nowMillis();
    req.leaseUntilMs = req.nowMs + options_.lease.count();
    req.limit = std::min(options_.batchSize, options_.maxInFlight - open);
    req.email = emailAgent_ != nullptr;
    req.sms = smsAgent_ != nullptr;
    auto claimed = store_.claimDue(req);
    if (!claimed.ok()) {
        armTimer(options_.pollInterval);  // the store is busy or away: look again later
        return;
    }
    const size_t got = claimed.value().size();
    if (got > 0) dispatch(std::move(claimed).value());
    if (got == req.limit) {
        // More may be due: claim again once this batch's reports have been handled.
        claimPosted_ = true;
        asio::post(io_, [this] { claimOnce(); });
        return;
    }
    auto wait = options_.pollInterval;
    auto next = store_.nextDueAtMs();
    if (next.ok() && next.value()) {
        const int64_t in = *next.value() - clock_.nowMillis();
        if (in > 0 && in < wait.count()) wait = std::chrono::milliseconds(in);
    }
    armTimer(wait);
}

DeliveryAgent::Report Scheduler::reporter() {
    return [this](DeliveryOutcome o) {
        asio::post(io_, [this, o = std::move(o)]() mutable { onReport(std::move(o)); });
    };
}

void Scheduler::dispatch(std::vector<store::ClaimedRecipient> claimed) {
    std::map<std::string, std::shared_ptr<const MessageContent>> messages;
    // (agent, destination) -> jobs: one deliver() per destination.
    std::map<std::pair<DeliveryAgent*, std::string>, std::vector<DeliveryJob>> groups;
    for (auto& c : claimed) {
        auto& message = messages[c.messageId];
        if (!message) {
            auto m = std::make_shared<MessageContent>();
            m->messageId = c.messageId;
            m->channel = c.kind;
            m->accountId = c.accountId;
            m->apiUserId = c.apiUserId;
            m->apiUserName = c.apiUserName;
            m->acceptedAtMs = c.createdAtMs;
            m->testMode = c.testMode;
            auto content = store_.messageContent(c.messageId);
            if (content.ok() && content.value()) {
                m->contentJson = std::move(content.value()->contentJson);
                m->attachments = std::move(content.value()->attachments);
            }
            message = std::move(m);
        }
        DeliveryJob job;
        job.recipientId = c.id;
        job.address = c.address;
        job.role = c.role;
        job.contentJson = std::move(c.contentJson);
        job.attempt = static_cast<int>(c.attempts) + 1;
        job.message = message;
        DeliveryAgent* agent = nullptr;
        if (c.testMode) {
            agent = &sandbox_;
        } else if (c.kind == store::UserKind::Email) {
            agent = emailAgent_;
            job.destination = domainOf(c.address);
        } else {
            agent = smsAgent_;
        }
        if (agent == nullptr) continue;  // not claimable (claimDue filters by channel)
        AttemptContext ctx;
        ctx.channel = c.kind;
        ctx.attempt = job.attempt;
        ctx.acceptedAtMs = c.createdAtMs;
        ctx.accountId = c.accountId;
        ctx.messageId = c.messageId;
        ctx.apiUserName = c.apiUserName;
        ctx.address = c.address;
        ctx.recipientKey = c.recipientKey;
        pending_[c.id] = Pending{std::move(ctx)};
        groups[{agent, job.destination}].push_back(std::move(job));
    }
    publishInFlight();
    for (auto& [key, jobs] : groups) key.first->deliver(std::move(jobs), reporter());
}

void Scheduler::onReport(DeliveryOutcome outcome) {
    auto it = pending_.find(outcome.recipientId);
    if (it == pending_.end()) return;  // not ours (already answered, or released)
    arrived_.push_back(Recording{std::move(outcome), std::move(it->second.context)});
    pending_.erase(it);
    if (arrived_.size() >= options_.recordBatch) {
        if (recordPlan_ == RecordPlan::Now) return;
        // A full group goes now, after the reports already queued on this thread have joined
        // it. A timer that has already fired runs recordArrived() once more, which finds little.
        recordTimer_.cancel();
        recordPlan_ = RecordPlan::Now;
        asio::post(io_, [this] { recordArrived(); });
    } else if (recordPlan_ == RecordPlan::None) {
        recordPlan_ = RecordPlan::Timer;
        recordTimer_.expires_after(options_.recordDelay);
        recordTimer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) recordArrived();
        });
    }
}

void Scheduler::stop(std::chrono::milliseconds drain) {
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        stopped_ = true;
    }
    if (!started_) return;
    asio::post(io_, [this] {
        stopping_ = true;
        timer_.cancel();
    });
    {
        std::unique_lock lock(mutex_);
        drained_.wait_for(lock, drain, [this] { return inFlightCount_ == 0; });
    }
    if (emailAgent_ != nullptr) emailAgent_->stop();
    if (smsAgent_ != nullptr) smsAgent_->stop();
    asio::post(io_, [this] {
        writeRecordings();
        io_.stop();
    });
    thread_.join();
    // What did not finish goes back to the queue, due at once (another node, or our next life).
    (void)store_.releaseLeases(options_.nodeId, clock_.nowMillis());
}

}  // namespace sc::queue
