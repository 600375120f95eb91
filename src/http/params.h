#pragma once
// Decoded request parameters: query string and body merged, in arrival order. Parameter names
// are case-sensitive. A parameter may arrive several times; whether that is allowed is the
// duplicate rule of docs/api.md §1 (same value: fine; different values: 400), applied by
// firstConflict().

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sc::http {

struct Param {
    std::string name;
    std::string value;
};

class ParamMap {
public:
    void add(std::string name, std::string value);
    // Room for `n` parameters in all, so that a parser that knows their number adds them
    // without regrowing the list.
    void reserve(size_t n) { items_.reserve(n); }

    // The first value of `name`, if present.
    std::optional<std::string_view> get(std::string_view name) const;
    bool has(std::string_view name) const;
    // Every value of `name`, in arrival order.
    std::vector<std::string_view> all(std::string_view name) const;

    // The name of the first parameter given twice with different values, ignoring the names in
    // `listNames` (parameters that may legitimately repeat, such as a repeated `to`).
    std::optional<std::string> firstConflict(
        const std::vector<std::string_view>& listNames = {}) const;

    const std::vector<Param>& items() const { return items_; }
    size_t size() const { return items_.size(); }

private:
    std::vector<Param> items_;
};

}  // namespace sc::http
