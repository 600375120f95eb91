#pragma once
// How the SQLite backend finds a message's recipients without an index on message_id.
// A recipient's id is its message's id followed by a decimal digit (api/ids.cpp): the
// recipients of message M are the primary-key range [M || '0', M || ':') (':' follows '9'), which
// replaced an index on message_id (migration 5). The range may also hold the recipients of a
// message whose id extends M with digits, hence the exact test on message_id; its unary + keeps
// SQLite from choosing that column over the range and building an automatic index on it (a
// scan of recipients) for want of the old one. rowid order is insertion order: recipients come
// back as the request listed them.
// `r` is the recipients table's name or alias in the query, `m` the message id expression.
#define SC_RECIPIENTS_OF(r, m) \
    r ".id >= " m " || '0' AND " r ".id < " m " || ':' AND +" r ".message_id = " m
