#include "store/records.h"

namespace sc::store {

std::string_view userKindName(UserKind k) {
    return k == UserKind::Email ? "email" : "sms";
}

}  // namespace sc::store
