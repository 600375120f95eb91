#pragma once
// Result<T, E>: the return type for untrusted input and likely environment failures (see the
// error policy in docs/architecture.md). Shaped like std::expected, which g++ 12 lacks, so the
// code can move to std::expected later by renaming.

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace sc {

template <class E>
struct Unexpected {
    E error;
};

template <class E>
Unexpected<std::decay_t<E>> fail(E&& e) {
    return Unexpected<std::decay_t<E>>{std::forward<E>(e)};
}

template <class T, class E = std::string>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    template <class G>
    Result(Unexpected<G> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const E& error() const& {
        assert(!ok());
        return std::get<1>(v_);
    }
    E&& error() && {
        assert(!ok());
        return std::get<1>(std::move(v_));
    }

private:
    std::variant<T, E> v_;
};

// Result<void, E>: success carries nothing.
struct Ok {};

template <class E = std::string>
using Status = Result<Ok, E>;

}  // namespace sc
