#pragma once
// MessageQueries: reading what was sent (status queries, the console's Messages page). Every
// read returns Result, so an outage is a 503 and never reads as "not found".

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

class MessageQueries {
public:
    virtual ~MessageQueries() = default;

    // nullopt: no such recipient.
    virtual Result<std::optional<StoredRecipient>, StoreError> findRecipient(
        std::string_view id) = 0;
    // In the order the request listed them; empty: no such message.
    virtual Result<std::vector<StoredRecipient>, StoreError> recipientsOf(
        std::string_view messageId) = 0;

    // The account's `limit` most recent messages, newest first, with their recipients.
    virtual Result<std::vector<StoredMessageSummary>, StoreError> recentMessages(int64_t accountId,
                                                                                 int64_t limit) = 0;
};

}  // namespace sc::store
