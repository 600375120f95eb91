#pragma once
// strCat: concatenation without `"literal" + std::string&&`, which makes g++ 12 emit a false
// -Wrestrict at -O2 (GCC bug 105329) and so breaks -Werror release builds.

#include <string>
#include <string_view>
#include <type_traits>

namespace sc::console {

namespace detail {
inline void append(std::string& out, std::string_view s) {
    out += s;
}
inline void append(std::string& out, char c) {
    out += c;
}
template <class T>
requires std::is_integral_v<T> &&
    (!std::is_same_v<T, char>)&&(!std::is_same_v<T, bool>)void append(std::string& out, T n) {
    out += std::to_string(n);
}
}  // namespace detail

template <class... Parts>
std::string strCat(const Parts&... parts) {
    std::string out;
    (detail::append(out, parts), ...);
    return out;
}

}  // namespace sc::console
