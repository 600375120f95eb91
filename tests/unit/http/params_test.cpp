#include "http/params.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace sc::http {
namespace {

using Views = std::vector<std::string_view>;

TEST(HttpParamMap, EmptyMapHasNothing) {
    ParamMap m;
    EXPECT_EQ(m.size(), 0u);
    EXPECT_FALSE(m.has("to"));
    EXPECT_FALSE(m.get("to").has_value());
    EXPECT_TRUE(m.all("to").empty());
    EXPECT_FALSE(m.firstConflict().has_value());
}

TEST(HttpParamMap, KeepsArrivalOrderAndFirstValue) {
    ParamMap m;
    m.add("to", "a@x.io");
    m.add("from", "b@x.io");
    m.add("to", "c@x.io");
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m.items()[0].name, "to");
    EXPECT_EQ(m.items()[1].name, "from");
    EXPECT_EQ(m.items()[2].value, "c@x.io");
    EXPECT_EQ(m.get("to"), "a@x.io");
    EXPECT_EQ(m.all("to"), (Views{"a@x.io", "c@x.io"}));
    EXPECT_EQ(m.all("from"), (Views{"b@x.io"}));
}

TEST(HttpParamMap, NamesAreCaseSensitive) {
    ParamMap m;
    m.add("apiUser", "u");
    EXPECT_TRUE(m.has("apiUser"));
    EXPECT_FALSE(m.has("apiuser"));
    EXPECT_FALSE(m.has("APIUSER"));
}

TEST(HttpParamMap, EmptyValueIsPresent) {
    ParamMap m;
    m.add("flag", "");
    EXPECT_TRUE(m.has("flag"));
    EXPECT_EQ(m.get("flag"), "");
}

TEST(HttpParamMap, SameValueTwiceIsNoConflict) {
    ParamMap m;
    m.add("apiUser", "u");
    m.add("apiUser", "u");
    EXPECT_FALSE(m.firstConflict().has_value());
}

TEST(HttpParamMap, DifferentValuesConflict) {
    ParamMap m;
    m.add("apiUser", "u");
    m.add("subject", "s");
    m.add("apiUser", "v");
    EXPECT_EQ(m.firstConflict(), "apiUser");
}

TEST(HttpParamMap, ConflictOrderFollowsFirstArrivalOfTheName) {
    ParamMap m;
    m.add("a", "1");
    m.add("b", "1");
    m.add("b", "2");  // b's conflict is seen first ...
    m.add("a", "2");  // ... but a arrived first
    EXPECT_EQ(m.firstConflict(), "a");
}

TEST(HttpParamMap, ThirdDifferentValueStillConflicts) {
    ParamMap m;
    m.add("x", "1");
    m.add("x", "1");
    m.add("x", "2");
    EXPECT_EQ(m.firstConflict(), "x");
}

TEST(HttpParamMap, ListNamesMayRepeat) {
    ParamMap m;
    m.add("to", "a@x.io");
    m.add("to", "b@x.io");
    m.add("subject", "one");
    m.add("subject", "two");
    EXPECT_EQ(m.firstConflict(), "to");
    EXPECT_EQ(m.firstConflict({"to"}), "subject");
    EXPECT_FALSE(m.firstConflict({"to", "subject"}).has_value());
}

TEST(HttpParamMap, ValuesDifferingOnlyInCaseConflict) {
    ParamMap m;
    m.add("apiKey", "abc");
    m.add("apiKey", "ABC");
    EXPECT_EQ(m.firstConflict(), "apiKey");
}

TEST(HttpParamMap, EmbeddedNulIsPartOfTheValue) {
    ParamMap m;
    m.add("k", std::string("a\0b", 3));
    m.add("k", "a");
    EXPECT_EQ(m.get("k")->size(), 3u);
    EXPECT_EQ(m.firstConflict(), "k");
}

}  // namespace
}  // namespace sc::http
